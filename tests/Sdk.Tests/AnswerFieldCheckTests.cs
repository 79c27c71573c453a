namespace GrpcPlugins.Sdk.Tests;

/// <summary>The Sdk refuses, where a handler sets it, what the host would refuse as the plugin's error.</summary>
public sealed class AnswerFieldCheckTests
{
    private static RouteResponse Response() => new((_, _, _, _) => Task.CompletedTask, (_, _) => Task.CompletedTask);

    [Fact]
    public void ARouteHeaderWithALineBreakOrANameThatIsNoToken_ThrowsWhereItIsSet()
    {
        var response = Response();
        var injected = Assert.Throws<ArgumentException>(() => response.AddHeader("x-note", "a\r\nset-cookie: stolen=1"));
        Assert.Contains("U+000D", injected.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => response.AddHeader("bad name:", "x"));
        Assert.Throws<ArgumentException>(() => response.ContentType = "text/plain\n");

        response.AddHeader("x-note", "tab\tand spaces are fine");
        response.ContentType = "application/json";
        Assert.Equal("application/json", response.ContentType);
    }

    [Theory]
    [InlineData(101, false)]
    [InlineData(199, false)]
    [InlineData(600, false)]
    [InlineData(200, true)]
    [InlineData(599, true)]
    public void ARouteStatusIsAFinalOne(int status, bool accepted)
    {
        var response = Response();
        if (accepted)
        {
            response.StatusCode = status;
            Assert.Equal(status, response.StatusCode);
        }
        else
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => response.StatusCode = status);
            Assert.Equal(200, response.StatusCode);
        }
    }

    [Fact]
    public async Task ARouteContentLengthIsOneHeader_NeverNegative_AndSetBeforeTheHeadIsSent()
    {
        IReadOnlyList<KeyValuePair<string, string>> sent = [];
        var response = new RouteResponse((_, headers, _, _) => { sent = [.. headers]; return Task.CompletedTask; }, (_, _) => Task.CompletedTask);

        Assert.Throws<ArgumentOutOfRangeException>(() => response.ContentLength = -1);
        response.ContentLength = 10;
        response.ContentLength = 4096;
        Assert.Equal(4096, response.ContentLength);
        await response.WriteAsync(new byte[4096]);

        Assert.Equal([new("content-length", "4096")], sent);
        Assert.Throws<InvalidOperationException>(() => response.ContentLength = null);
    }

    [Fact]
    public void AHookAnswerTheHostWouldRefuse_ThrowsWhenItIsMade_ButRemovingAHeaderIsFine()
    {
        var status = Assert.Throws<ArgumentOutOfRangeException>(() => HookResult.ShortCircuit(101, "not final"));
        Assert.Contains("200-599", status.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => HookResult.Modify("x", new Dictionary<string, string> { ["x-note"] = "caf\u00e9" }));
        Assert.Throws<ArgumentException>(() => HookResult.SetHeaders(new Dictionary<string, string> { ["bad name"] = "x" }));
        Assert.Throws<ArgumentException>(() => HookResult.ShortCircuit(403, "no", "text/plain\r\nx: y"));

        Assert.NotNull(HookResult.SetHeaders(new Dictionary<string, string> { ["x-remove-me"] = string.Empty }));
        Assert.NotNull(HookResult.ShortCircuit(429, "slow down"));
    }
}
