using System.Collections.Frozen;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// The plugins the host knows, as an immutable snapshot replaced whole when it
/// changes: readers never lock and never see a half-built list.
/// </summary>
internal sealed class PluginCatalog
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

    private sealed record Snapshot(IReadOnlyList<PluginEntry> Entries, FrozenDictionary<string, PluginEntry> ById);
}
