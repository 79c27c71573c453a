using System.Text;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// A hook call the plugin's manifest match takes: its first route id, method and media type,
/// so that a plugin narrowed to a few calls is still called by its check.
/// </summary>
internal static class SampleHookCall
{
    public static HookInput For(ManifestHook hook)
    {
        var match = hook.Match;
        var routeId = match.RouteIds is [var route, ..] ? (route.EndsWith('*') ? route[..^1] + "check" : route) : "/check";
        var method = match.Methods is [var first, ..] ? first : "POST";
        var contentType = match.ContentTypes is [var type, ..] ? (type.EndsWith("/*", StringComparison.Ordinal) ? type[..^1] + "x-check" : type) : "text/plain";
        var body = contentType.Contains("json", StringComparison.OrdinalIgnoreCase) ? """{"check":true}""" : "grpc-plugins check";
        return new HookInput(
            Encoding.UTF8.GetBytes(body),
            contentType,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["user-agent"] = "GrpcPlugins.BundleTool check" },
            new HookCallContext(routeId) { Method = method, Path = routeId.StartsWith('/') ? routeId : "/" + routeId });
    }
}
