using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Host.Tests;

/// <summary>A hook's match as Describe states it, against the manifest's.</summary>
public sealed class DescribeCheckTests
{
    private static PluginManifest Manifest(string hooks) =>
        ManifestReader.Parse($$"""{ "id": "demo", "version": "1.0.0", "command": "./run", "hooks": {{hooks}} }""", "/plugins/demo", out _)!;

    private static DescribeResponse Described(HookMatch? match)
    {
        var described = new DescribeResponse { Id = "demo", Version = "1.0.0" };
        described.Hooks.Add(new HookRegistration { Point = "request", Match = match });
        return described;
    }

    [Fact]
    public void AMatchStatedInDescribe_ThatTheManifestLacks_IsRefused_ShowingBoth()
    {
        var match = new HookMatch { HeadersOnly = true };
        match.RouteIds.Add("/orders*");

        var errors = DescribeCheck.Compare(Manifest("""["request"]"""), Described(match));

        Assert.Equal("hooks: 'request' match: manifest says every call, Describe says 'routes /orders*; headers only'; write the same in the manifest's hook as \"match\"", Assert.Single(errors));
    }

    [Fact]
    public void AMatchWhoseMethodsDiffer_IsRefused_ShowingBoth()
    {
        var match = new HookMatch();
        match.Methods.Add("PUT");

        var errors = DescribeCheck.Compare(Manifest("""[{"point": "request", "match": {"methods": ["POST"]}}]"""), Described(match));

        Assert.Equal("hooks: 'request' match: manifest says 'methods POST', Describe says 'methods PUT'; write the same in the manifest's hook as \"match\"", Assert.Single(errors));
    }

    [Fact]
    public void TheSameMatchInBoth_OrNoneInDescribe_IsAccepted()
    {
        var manifest = Manifest("""[{"point": "request", "match": {"contentTypes": ["application/json"]}}]""");
        var match = new HookMatch();
        match.ContentTypes.Add("application/json");

        Assert.Empty(DescribeCheck.Compare(manifest, Described(match)));
        Assert.Empty(DescribeCheck.Compare(manifest, Described(null)));
    }
}
