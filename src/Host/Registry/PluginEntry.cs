using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// One discovered plugin: its manifest and its supervisor, or the reason it
/// was refused (then <see cref="Supervisor"/> is null).
/// </summary>
internal sealed record PluginEntry(string Id, string Folder, PluginManifest? Manifest, PluginSupervisor? Supervisor, IReadOnlyList<string> Refusal)
{
    public bool IsRefused => Refusal.Count > 0;
}
