using System.Collections.Frozen;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// The plugins the host knows, as an immutable snapshot replaced whole when it
/// changes: readers never lock and never see a half-built list. Disposed with the
/// host's services, it stops every worker still running: a host disposed without
/// being stopped (its start cut short by Ctrl+C after the first spawns) leaves none.
/// </summary>
internal sealed class PluginCatalog : IAsyncDisposable
{
    private volatile Snapshot _current = new([], FrozenDictionary<string, PluginEntry>.Empty);

    /// <summary>Every entry, refused ones included, in discovery order.</summary>
    public IReadOnlyList<PluginEntry> Entries => _current.Entries;

    /// <summary>The entry with id <paramref name="id"/>, or null.</summary>
    public PluginEntry? Find(string id) => _current.ById.GetValueOrDefault(id);

    private readonly Lock _changes = new();

    /// <summary>Replaces the entries through <paramref name="change"/>, one change at a time.</summary>
    public void Change(Func<IReadOnlyList<PluginEntry>, IReadOnlyList<PluginEntry>> change)
    {
        lock (_changes)
        {
            Publish(change(Entries));
        }
    }

    /// <summary>Publishes a new set of entries.</summary>
    public void Publish(IReadOnlyList<PluginEntry> entries) =>
        _current = new Snapshot(entries, entries.DistinctBy(e => e.Id).ToFrozenDictionary(e => e.Id, StringComparer.Ordinal));

    /// <summary>Stops every supervised worker (a stop is idempotent: after the host's own stop, nothing is left to do).</summary>
    public async ValueTask DisposeAsync() =>
        await Task.WhenAll(Entries.Where(e => e.Supervisor is not null).Select(e => e.Supervisor!.StopAsync())).ConfigureAwait(false);

    private sealed record Snapshot(IReadOnlyList<PluginEntry> Entries, FrozenDictionary<string, PluginEntry> ById);
}
