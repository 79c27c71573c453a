using System.Collections.Concurrent;

namespace GrpcPlugins.Host.Calls;

/// <summary>Per-plugin call failure counts and the last failure, for the admin view.</summary>
internal sealed class CallStats
{
    private readonly ConcurrentDictionary<string, Entry> _byPlugin = new(StringComparer.Ordinal);

    public void Record(CallFailure failure, DateTimeOffset at)
    {
        var entry = _byPlugin.GetOrAdd(failure.PluginId, static _ => new Entry());
        Interlocked.Increment(ref entry.Failures);
        entry.Last = (failure, at);
    }

    /// <summary>Failures since start and the last one, or (0, null).</summary>
    public (long Failures, CallFailure? Last, DateTimeOffset? At) Get(string pluginId) =>
        _byPlugin.TryGetValue(pluginId, out var e) ? (Interlocked.Read(ref e.Failures), e.Last?.Failure, e.Last?.At) : (0, null, null);

    private sealed class Entry
    {
        public long Failures;
        public (CallFailure Failure, DateTimeOffset At)? Last;
    }
}
