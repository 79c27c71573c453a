using GrpcPlugins.Host.Hooks;

namespace GrpcPlugins.Host.Tests;

/// <summary>Which calls a hook's match lets through: pure logic; the dispatcher's and a real worker's tests use it end to end.</summary>
public sealed class HookMatchTests
{
    [Theory]
    [InlineData("/orders", "/orders", true)]
    [InlineData("/orders", "/orders/{id}", false)]
    [InlineData("/orders*", "/orders/{id}", true)]
    [InlineData("/orders*", "/orders", true)]
    [InlineData("/orders*", "/Orders", false)]
    [InlineData("*", "", true)]
    [InlineData("/plugins/hello", "/plugins/hello-two", false)]
    public void RouteIds_MatchWholeOrByPrefix(string pattern, string routeId, bool accepted) =>
        Assert.Equal(accepted, new HookMatch([pattern], [], false).Accepts(routeId, "text/plain"));

    [Theory]
    [InlineData("application/json", "application/json", true)]
    [InlineData("application/json", "Application/JSON; charset=utf-8", true)]
    [InlineData("application/json", "application/json-patch+json", false)]
    [InlineData("text/*", "text/html;charset=utf-8", true)]
    [InlineData("text/*", "textual/html", false)]
    [InlineData("application/json", "", false)]
    public void ContentTypes_MatchWithoutParameters_InAnyCase(string pattern, string contentType, bool accepted) =>
        Assert.Equal(accepted, new HookMatch([], [pattern], false).Accepts("/any", contentType));

    [Fact]
    public void AnEmptyMatch_AcceptsEveryCall_EvenOneWithoutAContentType()
    {
        Assert.True(HookMatch.Any.Accepts(string.Empty, string.Empty));
        Assert.True(new HookMatch([], [], true).Accepts("/x", string.Empty));
    }

    [Fact]
    public void BothLists_MustMatch()
    {
        var match = new HookMatch(["/orders*"], ["application/json"], false);

        Assert.True(match.Accepts("/orders", "application/json"));
        Assert.False(match.Accepts("/orders", "text/plain"));
        Assert.False(match.Accepts("/users", "application/json"));
    }

    [Theory]
    [InlineData("/or*ders")]
    [InlineData("")]
    public void ARouteIdPattern_WithAStarInside_OrEmpty_IsAProblem(string pattern) =>
        Assert.NotNull(GrpcPlugins.Routing.HookMatchRules.RouteIdProblem(pattern));

    [Theory]
    [InlineData("json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("*/*")]
    [InlineData("application/")]
    [InlineData("a/b/c")]
    public void AContentTypePattern_ThatIsNoMediaType_IsAProblem(string pattern) =>
        Assert.NotNull(GrpcPlugins.Routing.HookMatchRules.ContentTypeProblem(pattern));

    [Fact]
    public void Equality_ComparesTheListsItems() =>
        Assert.Equal(new HookMatch(["/a*"], ["Text/*"], true), new HookMatch(["/a*"], ["text/*"], true));
}
