using System.Diagnostics.CodeAnalysis;

namespace GrpcPlugins.Sdk;

/// <summary>
/// Whether this worker can serve attached (PLUGIN_ATTACH_LISTEN). Kestrel's HTTPS comes with
/// ASP.NET Core's hosting, 1.8 MB of a NativeAOT worker and 1.4 MiB of its idle memory, which
/// a worker the host spawns never uses: a trimmed or NativeAOT publish leaves it out unless the
/// plugin's project sets GrpcPluginsAttachedWorkers to true (GrpcPlugins.Sdk.targets).
/// </summary>
internal static class AttachedWorkers
{
    public const string Switch = "GrpcPlugins.Sdk.AttachedWorkers";

    [FeatureSwitchDefinition(Switch)]
    public static bool IsSupported => !AppContext.TryGetSwitch(Switch, out var on) || on;
}
