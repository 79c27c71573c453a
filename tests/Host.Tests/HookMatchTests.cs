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
        Assert.Equal(accepted, new HookMatch([pattern], [], false, []).Accepts(routeId, "GET", "text/plain"));

    [Theory]
    [InlineData("application/json", "application/json", true)]
    [InlineData("application/json", "Application/JSON; charset=utf-8", true)]
    [InlineData("application/json", "application/json-patch+json", false)]
    [InlineData("text/*", "text/html;charset=utf-8", true)]
    [InlineData("text/*", "textual/html", false)]
    [InlineData("application/json", "", false)]
    public void ContentTypes_MatchWithoutParameters_InAnyCase(string pattern, string contentType, bool accepted) =>
        Assert.Equal(accepted, new HookMatch([], [pattern], false, []).Accepts("/any", "GET", contentType));

    [Fact]
    public void AnEmptyMatch_AcceptsEveryCall_EvenOneWithoutAContentType()
    {
        Assert.True(HookMatch.Any.Accepts(string.Empty, string.Empty, string.Empty));
        Assert.True(new HookMatch([], [], true, []).Accepts("/x", string.Empty, string.Empty));
    }

    [Fact]
    public void EveryList_MustMatch()
    {
        var match = new HookMatch(["/orders*"], ["application/json"], false, ["POST"]);

        Assert.True(match.Accepts("/orders", "POST", "application/json"));
        Assert.False(match.Accepts("/orders", "POST", "text/plain"));
        Assert.False(match.Accepts("/users", "POST", "application/json"));
        Assert.False(match.Accepts("/orders", "PUT", "application/json"));
    }

    [Theory]
    [InlineData("POST", "POST", true)]
    [InlineData("POST", "post", false)]
    [InlineData("POST", "PUT", false)]
    [InlineData("GET", "HEAD", true)]
    [InlineData("HEAD", "GET", false)]
    [InlineData("DELETE", "", false)]
    public void Methods_MatchExactly_AndGetTakesHead(string listed, string method, bool accepted) =>
        Assert.Equal(accepted, new HookMatch([], [], false, [listed]).Accepts("/any", method, string.Empty));

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("*", "leave the list empty")]
    [InlineData("post", "write 'POST'")]
    [InlineData("GET ME", "not an HTTP method")]
    public void AMethodThatIsNoUpperCaseToken_IsAProblemThatSaysTheFix(string method, string said) =>
        Assert.Contains(said, GrpcPlugins.Routing.HookMatchRules.MethodProblem(method), StringComparison.Ordinal);

    [Theory]
    [InlineData("DELETE")]
    [InlineData("PROPFIND")]
    [InlineData("M-SEARCH")]
    public void AnUpperCaseMethod_IsNoProblem(string method) =>
        Assert.Null(GrpcPlugins.Routing.HookMatchRules.MethodProblem(method));

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
    public void Equality_ComparesTheListsItems()
    {
        Assert.Equal(new HookMatch(["/a*"], ["Text/*"], true, ["POST"]), new HookMatch(["/a*"], ["text/*"], true, ["POST"]));
        Assert.NotEqual(new HookMatch([], [], false, ["POST"]), new HookMatch([], [], false, ["PUT"]));
    }

    [Fact]
    public void Describe_NamesEachPart_InOneLine() =>
        Assert.Equal("routes /orders*; methods POST, DELETE; content types application/json; headers only", new HookMatch(["/orders*"], ["application/json"], true, ["POST", "DELETE"]).Describe());
}
