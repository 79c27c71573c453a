using GrpcPlugins.Routing;

namespace GrpcPlugins.Sdk.Tests;

public sealed class HttpFieldSyntaxTests
{
    [Theory]
    [InlineData("x-note", "plain value", null)]
    [InlineData("x-note", "tab\tand spaces", null)]
    [InlineData("x-note", "caf\u00e9", "holds the character U+00E9")]
    [InlineData("x-note", "a\nb", "holds the character U+000A")]
    [InlineData("x note", "v", "'x note' is not a header name")]
    [InlineData("x\r\nset-cookie", "v", "'x\\u000D\\u000Aset-cookie' is not a header name")]
    [InlineData("", "v", "'' is not a header name")]
    public void HeaderFields_AreTokensWithPrintableValues_AndABadNameIsNeverEchoedRaw(string name, string value, string? expected)
    {
        var problem = HttpFieldSyntax.HeaderProblem(name, value);

        if (expected is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(expected, problem, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', problem!);
        }
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(599, true)]
    [InlineData(101, false)]
    [InlineData(0, false)]
    [InlineData(600, false)]
    public void OnlyFinalStatuses_AreAnAnswer(int status, bool valid)
    {
        Assert.Equal(valid, HttpFieldSyntax.StatusProblem(status) is null);
    }
}
