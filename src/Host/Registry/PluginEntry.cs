using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// One discovered plugin: its manifest and its supervisor, or the reason it
/// was refused (then <see cref="Supervisor"/> is null).
/// </summary>
internal sealed record PluginEntry(string Id, string Folder, PluginManifest? Manifest, PluginSupervisor? Supervisor, IReadOnlyList<string> Refusal)
{
    public bool IsRefused => Refusal.Count > 0;

    /// <summary>
    /// The limits its manifest declares, before the host's <c>PluginHost:PluginLimits</c>;
    /// <see cref="Manifest"/> holds the limits in force.
    /// </summary>
    public ManifestLimits? DeclaredLimits { get; init; }

    /// <summary>What Describe published as its settings schema; used when the manifest has none.</summary>
    public DescribedSettingsSchema Described { get; init; } = new();

    /// <summary>The schema its settings are validated, masked and sealed by: its manifest's, else its last Describe's.</summary>
    public System.Text.Json.JsonElement? SettingsSchema => Manifest?.SettingsSchema ?? Described.Schema;

    /// <summary>The limits the host's configuration set over the manifest's when this entry was made, as <c>dataMiB=4096</c>.</summary>
    public IReadOnlyList<string> LimitsSetByHost { get; init; } = [];
}
