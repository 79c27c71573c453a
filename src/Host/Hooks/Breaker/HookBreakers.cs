using System.Collections.Concurrent;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Hooks.Breaker;

/// <summary>Every plugin's hook breaker; logs and counts each pause and resumption once.</summary>
internal sealed partial class HookBreakers(IOptions<PluginHostOptions> options, PluginMetrics metrics, ILogger<HookBreakers> logger, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, HookBreaker> _byPlugin = new(StringComparer.Ordinal);
    private readonly HookBreakerSettings _settings = new(options.Value.HookBreakerTimeouts, options.Value.HookBreakerPause);

    /// <summary>A plugin's hook calls were paused (opened, or opened again after a failed trial): its id.</summary>
    public event Action<string>? Paused;

    /// <summary>The plugin's breaker, made on first use; a hook target holds it, so a call looks nothing up.</summary>
    public HookBreaker For(string pluginId) => _byPlugin.GetOrAdd(pluginId, static (_, s) => new HookBreaker(s.Settings, s.Time), (Settings: _settings, Time: time));

    /// <summary>Ends a call that went through its plugin's breaker, logging and counting what that changed.</summary>
    public void Exit(string pluginId, HookBreaker breaker, HookBreakerPass pass, HookCallEnd end, TimeSpan deadline)
    {
        switch (breaker.Exit(pass, end))
        {
            case HookBreakerChange.Opened:
                metrics.HookBreakerOpened.Add(1, new KeyValuePair<string, object?>("plugin", pluginId));
                Log.Opened(logger, pluginId, _settings.Timeouts, deadline.TotalMilliseconds, _settings.Pause.TotalSeconds);
                Paused?.Invoke(pluginId);
                break;
            case HookBreakerChange.Reopened:
                metrics.HookBreakerOpened.Add(1, new KeyValuePair<string, object?>("plugin", pluginId));
                Log.Reopened(logger, pluginId, deadline.TotalMilliseconds, _settings.Pause.TotalSeconds);
                Paused?.Invoke(pluginId);
                break;
            case HookBreakerChange.Closed:
                Log.Closed(logger, pluginId);
                break;
        }
    }

    /// <summary>The plugin's breaker, or a closed one for a plugin never called.</summary>
    public HookBreakerView View(string pluginId) =>
        _byPlugin.TryGetValue(pluginId, out var breaker) ? breaker.View() : new HookBreakerView(HookBreakerState.Closed, 0, null, 0);

    /// <summary>Why a skipped call was skipped, for the caller's failure.</summary>
    public CallFailure Skipped(string pluginId, HookBreakerPass pass) => new(
        pluginId,
        CallFailureKind.CircuitOpen,
        $"calls paused: {_settings.Timeouts} calls in a row missed their deadline; calls resume once a trial call is answered, in about {Math.Max(1, Math.Ceiling(pass.RetryAfter.TotalSeconds)):0} s (PluginHost:HookBreakerTimeouts and HookBreakerPause)")
    {
        RetryAfter = pass.RetryAfter,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 2003, EventName = "HookCallsPaused", Level = LogLevel.Warning, Message = "Plugin {PluginId}: {Timeouts} hook calls in a row missed their deadline ({DeadlineMs} ms); its hook calls are skipped for {PauseSeconds} s, then one trial call decides. Restarts are its health probes' call, not this: see its log, or restart it from the admin API.")]
        public static partial void Opened(ILogger logger, string pluginId, int timeouts, double deadlineMs, double pauseSeconds);

        [LoggerMessage(EventId = 2004, EventName = "HookCallsPausedAgain", Level = LogLevel.Warning, Message = "Plugin {PluginId}: the trial hook call missed its deadline too ({DeadlineMs} ms); its hook calls are skipped for another {PauseSeconds} s.")]
        public static partial void Reopened(ILogger logger, string pluginId, double deadlineMs, double pauseSeconds);

        [LoggerMessage(EventId = 2005, EventName = "HookCallsResumed", Level = LogLevel.Information, Message = "Plugin {PluginId}: the trial hook call was answered; its hook calls go through again.")]
        public static partial void Closed(ILogger logger, string pluginId);
    }
}
