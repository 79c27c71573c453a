namespace GrpcPlugins.Sdk;

/// <summary>
/// A plugin: its identity and what it registers. The same type runs as its
/// own console app (<see cref="PluginRunner.RunAsync(IPlugin, string[], CancellationToken)"/>)
/// or is loaded from its assembly by the generic PluginWorker.
/// </summary>
public interface IPlugin
{
    /// <summary>The plugin id; must equal the manifest's id.</summary>
    string Id { get; }

    /// <summary>The plugin version (SemVer); must equal the manifest's version.</summary>
    string Version { get; }

    /// <summary>Registers hooks, routes and settings.</summary>
    void Configure(PluginBuilder plugin);
}
