namespace GrpcPlugins.Sdk.Tests;

public sealed class RouteTableTests
{
    private static readonly Func<RouteContext, Task> s_handler = _ => Task.CompletedTask;

    [Fact]
    public void Head_IsServedByTheGetRoute_UnlessTheRouteTableHasAHeadRouteOfItsOwn()
    {
        var get = new RouteRegistration("GET", "/items/*", false, s_handler);
        var head = new RouteRegistration("HEAD", "/items/special", false, s_handler);
        var table = new RouteTable([get, head]);

        Assert.Same(get, table.Match("HEAD", "/items/1", out _));
        Assert.Same(head, table.Match("HEAD", "/items/special", out _));
        Assert.Same(get, table.Match("GET", "/items/special", out _));
    }

    [Fact]
    public void Head_WithoutAGetRoute_MatchesNothing_ButKnowsThePath()
    {
        var table = new RouteTable([new RouteRegistration("POST", "/submit", false, s_handler)]);

        Assert.Null(table.Match("HEAD", "/submit", out var pathKnown));
        Assert.True(pathKnown);
        Assert.Null(table.Match("HEAD", "/elsewhere", out var unknown));
        Assert.False(unknown);
    }

    [Fact]
    public void ALiteralSegment_BeatsAParameter_AndTheParametersAreCaptured()
    {
        var byId = new RouteRegistration("GET", "/items/{id}", false, s_handler);
        var literal = new RouteRegistration("GET", "/items/new", false, s_handler);
        var table = new RouteTable([byId, literal]);

        var matched = table.Match("GET", "/items/42", out _)!;

        Assert.Same(byId, matched);
        Assert.Equal("42", RouteTable.ValuesOf(matched, "/items/42")["id"]);
        Assert.Same(literal, table.Match("GET", "/items/new", out _));
        Assert.Empty(RouteTable.ValuesOf(literal, "/items/new"));
    }

    [Fact]
    public void ABadTemplate_FailsAtRegistration_SayingWhatIsWrong()
    {
        var error = Assert.Throws<ArgumentException>(() => new PluginBuilder(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).MapGet("/items/{id", s_handler));

        Assert.Contains("'/items/{id' has the segment '{id'", error.Message, StringComparison.Ordinal);
    }
}
