using GrpcPlugins.Sdk;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrpcPlugins.Sdk.Tests;

/// <summary>A hook's match is checked where the author writes it, by the rules the host reads the manifest with.</summary>
public sealed class HookMatchRegistrationTests
{
    private static readonly Func<HookCall, HookResult> s_handler = _ => HookResult.Continue;

    [Theory]
    [InlineData("/or*ders", null, "'/or*ders' may only end in '*'")]
    [InlineData(null, "json", "'json' is not a media type")]
    [InlineData(null, "*/*", "'*/*' may not leave the type open")]
    public void APatternTheHostWouldRefuse_ThrowsWhereItIsRegistered(string? routeId, string? contentType, string expected)
    {
        var match = new HookMatch { RouteIds = routeId is null ? [] : [routeId], ContentTypes = contentType is null ? [] : [contentType] };

        var error = Assert.Throws<ArgumentException>(() => new PluginBuilder(NullLogger.Instance).OnHook("request", match, s_handler));

        Assert.Contains($"Hook 'request' match: {expected}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMethodTheHostWouldRefuse_ThrowsWithItsFix()
    {
        var error = Assert.Throws<ArgumentException>(() => new PluginBuilder(NullLogger.Instance).OnHook("request", new HookMatch { Methods = ["delete"] }, s_handler));

        Assert.Contains("Hook 'request' match: 'delete' must be in upper case, as HTTP sends it: write 'DELETE'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidPatterns_AreRegistered() =>
        Assert.Null(Record.Exception(() => new PluginBuilder(NullLogger.Instance)
            .OnHook("request", new HookMatch { RouteIds = ["/orders*", "/users", "*"], Methods = ["POST", "M-SEARCH"], ContentTypes = ["application/json", "text/*"], HeadersOnly = true }, s_handler)));
}
