namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// What an admin installed and uninstalled on any host replica, with the bundles themselves, so
/// every replica runs the same plugins without a shared disk. On one host (SQLite) there is
/// no one to follow and nothing is kept.
/// </summary>
internal interface ISharedBundles
{
    /// <summary>
    /// Keeps the bundle an admin just installed here (by its address, once) and makes it what
    /// every replica must run for that plugin; the others hear of it when this returns.
    /// </summary>
    Task InstalledAsync(string pluginId, string version, string address, string bundlePath, string by, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps a bundle an admin uploaded here and may install through another replica (a load
    /// balancer sends each request where it will), until it is installed or
    /// <paramref name="lifetime"/> has passed; drops what others staged longer ago than that.
    /// </summary>
    Task StagedAsync(string address, string bundlePath, string by, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>Drops the staged bundles no one installed within <paramref name="lifetime"/> (a replica starting does, as each upload does).</summary>
    Task SweepStagedAsync(TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>Records that an admin uninstalled the plugin here (and whether its settings were kept); the others follow.</summary>
    Task UninstalledAsync(string pluginId, string version, bool keepSettings, string by, CancellationToken cancellationToken);

    /// <summary>What the replicas must run for a plugin; null when no admin ever installed or uninstalled it on a replica (it is the deployment's).</summary>
    Task<ClusterPlugin?> GetAsync(string pluginId, CancellationToken cancellationToken);

    /// <summary>What the replicas must run for every plugin an admin installed or uninstalled on a replica, in one read.</summary>
    Task<IReadOnlyList<ClusterPlugin>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Writes a kept bundle (installed or staged) to <paramref name="destination"/>; false when none is kept under that address.</summary>
    Task<bool> FetchAsync(string address, string destination, CancellationToken cancellationToken);
}

/// <summary>
/// What the replicas must run for one plugin, as the last admin action on any of them left it:
/// the bundle at <c>Address</c>, or (null) none, the settings and each replica's data directory
/// kept or not (<c>KeepSettings</c>); who did it, when, on which replica.
/// </summary>
internal sealed record ClusterPlugin(string PluginId, string? Address, string Version, bool KeepSettings, DateTimeOffset At, string By, string Replica);
