using GrpcPlugins.Host.Registry;
using GrpcPlugins.Routing;

namespace GrpcPlugins.Host.Tests;

public sealed class RouteTemplateTests
{
    [Theory]
    [InlineData("/", "/", true)]
    [InlineData("/", "/ping", false)]
    [InlineData("/ping", "/ping", true)]
    [InlineData("/ping", "/ping/more", false)]
    [InlineData("/items/{id}", "/items/42", true)]
    [InlineData("/items/{id}", "/items", false)]
    [InlineData("/items/{id}", "/items/42/parts", false)]
    [InlineData("/files/*", "/files", true)]
    [InlineData("/files/*", "/files/a/b", true)]
    [InlineData("/files/*", "/filesystem", false)]
    [InlineData("/*", "/anything/at/all", true)]
    [InlineData("/users/{id}/files/*", "/users/7/files/a/b", true)]
    [InlineData("/users/{id}/files/*", "/users/7/photos", false)]
    public void Matches_LiteralsExactly_AParameterAnyOneSegment_AndAStarAnyRest(string template, string path, bool expected)
    {
        Assert.Equal(expected, RouteTemplate.Parse(template).Matches(path));
    }

    [Fact]
    public void Parameters_AreCaptured_ByName()
    {
        var values = new Dictionary<string, string>();

        Assert.True(RouteTemplate.Parse("/users/{user_id}/files/{name}/*").Matches("/users/7/files/report.pdf/v2", values));

        Assert.Equal("7", values["user_id"]);
        Assert.Equal("report.pdf", values["name"]);
    }

    [Fact]
    public void AWholePathBeatsAPrefix_ThenMoreLiteralSegmentsWin()
    {
        string[] byRank = ["/items/new", "/items/{id}", "/{kind}/{id}", "/items/new/*", "/items/*", "/*"];

        var ranks = byRank.Select(t => RouteTemplate.Parse(t).Rank).ToList();

        Assert.Equal(ranks.OrderDescending(), ranks);
        Assert.Equal(ranks.Count, ranks.Distinct().Count());
    }

    [Theory]
    [InlineData("ping", "must start with '/'")]
    [InlineData("/a//b", "has an empty segment")]
    [InlineData("/items/{id}/{id}", "once per route")]
    [InlineData("/items/{bad-name}", "named with letters, digits and '_'")]
    [InlineData("/items/id{x}", "braces make a whole segment a parameter")]
    [InlineData("/files/*/more", "'*' may only end a route")]
    public void ABadTemplate_SaysWhatIsWrong(string template, string expected)
    {
        Assert.False(RouteTemplate.TryParse(template, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void AManifestWithABadRouteTemplate_IsRefusedNamingTheRoute()
    {
        var manifest = ManifestReader.Parse("""{"id":"x","version":"1.0.0","command":"c","routes":[{"method":"GET","path":"/ok/{id}"},{"method":"GET","path":"/items/{id"}]}""", "/plugins/x", out var errors);

        Assert.Null(manifest);
        Assert.StartsWith("$.routes[1].path: '/items/{id' has the segment '{id'", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void AnAnonymousTemplateRoute_GrantsAccessToThePathsItMatches_AndHeadThroughGet()
    {
        var manifest = ManifestReader.Parse("""{"id":"x","version":"1.0.0","command":"c","routes":[{"method":"GET","path":"/public/{id}","anonymous":true}]}""", "/plugins/x", out _)!;

        Assert.True(manifest.IsAnonymous("GET", "/public/42"));
        Assert.True(manifest.IsAnonymous("HEAD", "/public/42"));
        Assert.False(manifest.IsAnonymous("POST", "/public/42"));
        Assert.False(manifest.IsAnonymous("GET", "/public/42/more"));
    }
}
