namespace GrpcPlugins.Host.Replicas;

/// <summary>A host that keeps its state in SQLite has no replicas: its plugins directory is the whole truth.</summary>
internal sealed class NoSharedBundles : ISharedBundles
{
    public Task InstalledAsync(string pluginId, string version, string address, string bundlePath, string by, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StagedAsync(string address, string bundlePath, string by, TimeSpan lifetime, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task SweepStagedAsync(TimeSpan lifetime, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task UninstalledAsync(string pluginId, string version, bool keepSettings, string by, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<ClusterPlugin?> GetAsync(string pluginId, CancellationToken cancellationToken) => Task.FromResult<ClusterPlugin?>(null);

    public Task<IReadOnlyList<ClusterPlugin>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<ClusterPlugin>>([]);

    public Task<bool> FetchAsync(string address, string destination, CancellationToken cancellationToken) => Task.FromResult(false);
}
