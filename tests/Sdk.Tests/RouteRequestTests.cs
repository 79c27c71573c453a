namespace GrpcPlugins.Sdk.Tests;

public sealed class RouteRequestTests
{
    [Fact]
    public void QueryValue_IsTheFirstValueDecoded_OrNullWhenAbsent()
    {
        var request = new RouteRequest("GET", "/", new Dictionary<string, string>(), "?q=a+b&q=second&empty=&x=caf%C3%A9", [], string.Empty, Stream.Null);

        Assert.Equal("a b", request.QueryValue("q"));
        Assert.Equal(string.Empty, request.QueryValue("empty"));
        Assert.Equal("caf\u00e9", request.QueryValue("x"));
        Assert.Null(request.QueryValue("missing"));
    }
}
