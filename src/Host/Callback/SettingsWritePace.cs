using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// Paces each plugin's own settings writes (PluginHost.PutSettings) with a token bucket per
/// plugin: a plugin writing in a loop, or retrying every refusal at once, would otherwise keep
/// the store's single writer and the host's schema validation busy for as long as it runs.
/// The turns of <see cref="CallerTurns"/> bound how many of its calls run at once; this bounds
/// how many it makes. Admins' writes are not paced.
/// </summary>
internal sealed partial class SettingsWritePace : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;
    private readonly ConcurrentDictionary<string, bool> _refusing = new(StringComparer.Ordinal);
    private readonly int _perSecond;
    private readonly int _burst;
    private readonly PluginMetrics _metrics;
    private readonly LifecycleEvents _events;
    private readonly ILogger _logger;

    public SettingsWritePace(IOptions<PluginHostOptions> options, PluginMetrics metrics, LifecycleEvents events, ILogger<SettingsWritePace> logger)
    {
        _perSecond = options.Value.SettingsWritesPerSecond;
        _burst = options.Value.SettingsWriteBurst;
        _metrics = metrics;
        _events = events;
        _logger = logger;
        if (_perSecond > 0)
        {
            var bucket = new TokenBucketRateLimiterOptions
            {
                TokenLimit = _burst,
                TokensPerPeriod = _perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            };
            _limiter = PartitionedRateLimiter.Create<string, string>(pluginId => RateLimitPartition.GetTokenBucketLimiter(pluginId, _ => bucket), StringComparer.Ordinal);
        }
    }

    /// <summary>Null when the plugin may write now; otherwise why not and when to try again, for the plugin's RESOURCE_EXHAUSTED.</summary>
    public SettingsWriteRefusal? Refusal(string pluginId)
    {
        if (_limiter is null)
        {
            return null;
        }

        using var lease = _limiter.AttemptAcquire(pluginId);
        if (lease.IsAcquired)
        {
            if (_refusing.TryGetValue(pluginId, out var was) && was)
            {
                _refusing[pluginId] = false;
            }

            return null;
        }

        _metrics.SettingsWritesRefused.Add(1, new KeyValuePair<string, object?>("plugin", pluginId));

        // Once per run of refusals, not once per refusal: a looping plugin must not flood the log either.
        if (!_refusing.TryGetValue(pluginId, out var refusing) || !refusing)
        {
            _refusing[pluginId] = true;
            Log.Paced(_logger, pluginId, _perSecond, _burst);
            _events.Record(pluginId, "settings-writes-paced", $"over {_perSecond} a second after a burst of {_burst}; its writes are refused until it slows down");
        }

        var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        var retryMs = (long)Math.Ceiling(retry.TotalMilliseconds);
        return new SettingsWriteRefusal(
            string.Create(CultureInfo.InvariantCulture, $"nothing was saved: plugin '{pluginId}' writes its settings faster than this host allows ({_perSecond} a second after a burst of {_burst}: PluginHost:SettingsWritesPerSecond and SettingsWriteBurst); retry in {retryMs} ms. Settings are configuration: write them when they change, and keep per-request state elsewhere."),
            retryMs);
    }

    public void Dispose() => _limiter?.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2008, EventName = "SettingsWritesPaced", Level = LogLevel.Warning, Message = "Plugin {Plugin} writes its settings faster than {PerSecond} a second after a burst of {Burst}; its writes are refused until it slows down (PluginHost:SettingsWritesPerSecond, SettingsWriteBurst).")]
        public static partial void Paced(ILogger logger, string plugin, int perSecond, int burst);
    }
}

/// <summary>A paced write: the plugin's message, and the wait gRPC's pushback trailer carries.</summary>
internal sealed record SettingsWriteRefusal(string Message, long RetryAfterMs);
