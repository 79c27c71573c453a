using GrpcPlugins.Host.Hooks.Endpoints;
using GrpcPlugins.Host.Routes;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Tests;

public sealed class HookedHeadersTests
{
    [Fact]
    public void PluginsAreOfferedNeitherTheHostsCredentialsNorHopByHopHeaders_WithNamesLowerCased()
    {
        var headers = new HeaderDictionary
        {
            ["X-Trace"] = "abc",
            ["Authorization"] = "Bearer secret",
            ["Cookie"] = "session=1",
            ["Connection"] = "keep-alive",
            ["Accept"] = new(["text/plain", "application/json"]),
        };

        var offered = HookedHeaders.Offer(headers, HeaderPolicy.AllowsRequest);

        Assert.Equal(["accept", "x-trace"], offered.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("text/plain,application/json", offered["accept"]);
    }

    [Fact]
    public void TheAnswerSetsWhatChanged_RemovesWhatWentMissing_AndRefusesWhatPluginsMayNotSet()
    {
        IHeaderDictionary headers = new HeaderDictionary { ["x-keep"] = "same", ["x-change"] = "old", ["x-drop"] = "gone", ["Authorization"] = "Bearer client" };
        var offered = HookedHeaders.Offer(headers, HeaderPolicy.AllowsRequest);
        var answered = new Dictionary<string, string>(offered, StringComparer.OrdinalIgnoreCase)
        {
            ["x-change"] = "new",
            ["x-added"] = "yes",
            ["authorization"] = "Bearer forged",
        };
        answered.Remove("x-drop");

        var refused = HookedHeaders.Apply(headers, offered, answered, HeaderPolicy.AllowsRequest);

        Assert.Equal(["authorization"], refused);
        Assert.Equal("same", headers["x-keep"]);
        Assert.Equal("new", headers["x-change"]);
        Assert.Equal("yes", headers["x-added"]);
        Assert.False(headers.ContainsKey("x-drop"));
        Assert.Equal("Bearer client", headers.Authorization);
    }
}
