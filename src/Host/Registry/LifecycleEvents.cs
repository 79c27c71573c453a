using System.Collections.Concurrent;
using GrpcPlugins.Host.Calls;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Lifecycle events (installed, activated, deactivated, crashed, crash-looping,
/// pending-config, restart-requested, settings-changed, settings-deleted, settings-writes-paced, start-failed, uninstalled,
/// token-used-elsewhere, used-another-token):
/// logged once, counted, and the recent ones kept per plugin
/// for the admin API.
/// </summary>
internal sealed partial class LifecycleEvents(PluginMetrics metrics, ILogger<LifecycleEvents> logger, TimeProvider time)
{
    private const int Kept = 20;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<LifecycleEvent>> _recent = new(StringComparer.Ordinal);

    public void Record(string pluginId, string name, string detail)
    {
        var queue = _recent.GetOrAdd(pluginId, static _ => new ConcurrentQueue<LifecycleEvent>());
        queue.Enqueue(new LifecycleEvent(time.GetUtcNow(), name, detail));
        while (queue.Count > Kept && queue.TryDequeue(out _))
        {
        }

        metrics.LifecycleEvents.Add(1, new KeyValuePair<string, object?>("plugin", pluginId), new KeyValuePair<string, object?>("event", name));
        Log.Event(logger, pluginId, name, detail);
    }

    public IReadOnlyList<LifecycleEvent> Recent(string pluginId) =>
        _recent.TryGetValue(pluginId, out var queue) ? [.. queue] : [];

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, EventName = "PluginLifecycleEvent", Level = LogLevel.Information, Message = "Plugin {PluginId}: {Event} {Detail}")]
        public static partial void Event(ILogger logger, string pluginId, string @event, string detail);
    }
}

/// <summary>One lifecycle event.</summary>
internal sealed record LifecycleEvent(DateTimeOffset At, string Name, string Detail);
