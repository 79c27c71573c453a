using System.Collections.Concurrent;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Hooks.Breaker;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Watches a version an upgrade switched to for <see cref="PluginHostOptions.RollbackOnCrashLoopWithin"/>,
/// <see cref="PluginHostOptions.RollbackOnHookPauseWithin"/> and <see cref="PluginHostOptions.RollbackOnCallFailuresWithin"/>:
/// if it crash-loops (it started, then kept dying: a fault its start did not show, met on real
/// traffic), its hook calls are paused (its handlers hang while its health answers) or its hook or
/// route calls keep failing (they are broken while its health answers) within that time, the host rolls it back
/// to the bundle it replaced, at 3 a.m. as at noon, instead of leaving the plugin down until an
/// admin comes. Said as an error, a lifecycle event and the host's own entry in the audit trail.
/// The version a rollback brings back is not watched in turn: two versions are not swapped back
/// and forth.
/// </summary>
internal sealed partial class UpgradeWatch(IOptions<PluginHostOptions> options, HookBreakers breakers, Calls.CallFailureRuns callFailures, AuditTrail audit, LifecycleEvents events, TimeProvider time, ILogger<UpgradeWatch> logger)
{
    /// <summary>Who the audit trail says acted.</summary>
    public const string Actor = "host";

    // What the version did, as the event, the audit entry and the log say it.
    private const string CrashLooped = "crash-looped";
    private const string HookCallsWerePaused = "had its hook calls paused";
    private const string CallsFailed = "had its calls fail";

    private readonly ConcurrentDictionary<string, byte> _rollingBack = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<UpgradeWatchItem>> _watching = new(StringComparer.Ordinal);

    // How to stop each plugin's watch: a newer upgrade (or a rollback) ends the older version's,
    // whose handlers would otherwise take the newer version's signs, named by the same id, for their own.
    private readonly ConcurrentDictionary<string, Action> _stops = new(StringComparer.Ordinal);

    /// <summary>
    /// What the host watches <paramref name="pluginId"/>'s upgraded version for now, each until when;
    /// empty when nothing (no upgrade watched, its windows over, or rolled back).
    /// </summary>
    public IReadOnlyList<UpgradeWatchItem> WatchOf(string pluginId)
    {
        var now = time.GetUtcNow();
        return _watching.TryGetValue(pluginId, out var items) ? [.. items.Where(i => i.Until > now)] : [];
    }

    /// <summary>Watches <paramref name="upgraded"/>'s new version; <paramref name="rollBack"/> installs the bundle it replaced.</summary>
    public void Watch(PluginEntry upgraded, Func<CancellationToken, Task<InstallResult>> rollBack)
    {
        var crashWindow = options.Value.RollbackOnCrashLoopWithin;
        var pauseWindow = options.Value.RollbackOnHookPauseWithin;
        var callWindow = options.Value.RollbackOnCallFailuresWithin;
        _watching.TryRemove(upgraded.Id, out _);
        if (_stops.TryRemove(upgraded.Id, out var stopPrevious))
        {
            stopPrevious();
        }
        if (_rollingBack.TryRemove(upgraded.Id, out _) || (crashWindow <= TimeSpan.Zero && pauseWindow <= TimeSpan.Zero && callWindow <= TimeSpan.Zero) || upgraded.Supervisor is not { } supervisor)
        {
            return;
        }

        var now = time.GetUtcNow();
        IReadOnlyList<UpgradeWatchItem> watched = [.. new (string What, TimeSpan Window)[] { ("crash loop", crashWindow), ("hook calls paused", pauseWindow), ("calls failing", callWindow) }
            .Where(w => w.Window > TimeSpan.Zero)
            .Select(w => new UpgradeWatchItem(w.What, now + w.Window))];
        _watching[upgraded.Id] = watched;

        var since = time.GetTimestamp();
        var fired = 0;
        ITimer? callWatchEnds = null;
        IDisposable? callRun = null;
        void StopCallWatches()
        {
            breakers.Paused -= OnPaused;
            callFailures.Failing -= OnCallsFailing;
            callRun?.Dispose();
        }

        void Stop()
        {
            supervisor.StateChanged -= OnChanged;
            StopCallWatches();
            callWatchEnds?.Dispose();
        }

        void Fire(string sign, string why, TimeSpan window)
        {
            var after = time.GetElapsedTime(since);
            Stop();
            // This version's watch only: a later upgrade's stays.
            _watching.TryRemove(new KeyValuePair<string, IReadOnlyList<UpgradeWatchItem>>(upgraded.Id, watched));
            _stops.TryRemove(new KeyValuePair<string, Action>(upgraded.Id, Stop));
            if (after <= window && Interlocked.Exchange(ref fired, 1) == 0)
            {
                // Off the caller's thread: the rollback stops this very supervisor.
                _ = Task.Run(() => RollBackAsync(upgraded, sign, why, after, window, rollBack));
            }
        }

        void OnChanged(WorkerSnapshot snapshot)
        {
            if (snapshot.State == WorkerState.CrashLooping)
            {
                Fire(CrashLooped, snapshot.LastError ?? "crash loop", crashWindow);
            }
        }

        void OnPaused(string pluginId)
        {
            if (pluginId == upgraded.Id)
            {
                Fire(HookCallsWerePaused, $"{options.Value.HookBreakerTimeouts} hook calls in a row missed their deadline", pauseWindow);
            }
        }

        void OnCallsFailing(string pluginId, string why)
        {
            if (pluginId == upgraded.Id)
            {
                Fire(CallsFailed, why, callWindow);
            }
        }

        _stops[upgraded.Id] = Stop;
        if (pauseWindow > TimeSpan.Zero)
        {
            breakers.Paused += OnPaused;
        }

        if (callWindow > TimeSpan.Zero)
        {
            callFailures.Failing += OnCallsFailing;
            callRun = callFailures.Watch(upgraded.Id, options.Value.CallFailuresToRollBack);
        }

        if (pauseWindow > TimeSpan.Zero || callWindow > TimeSpan.Zero)
        {
            // The singletons' events let go of this version once its windows are over.
            callWatchEnds = time.CreateTimer(_ => StopCallWatches(), null, pauseWindow > callWindow ? pauseWindow : callWindow, Timeout.InfiniteTimeSpan);
        }

        if (crashWindow > TimeSpan.Zero)
        {
            supervisor.StateChanged += OnChanged;
            // A version that died over and over before the upgrade's answer was out is caught too.
            OnChanged(supervisor.Snapshot);
        }
    }

    private async Task RollBackAsync(PluginEntry upgraded, string sign, string why, TimeSpan after, TimeSpan window, Func<CancellationToken, Task<InstallResult>> rollBack)
    {
        var id = upgraded.Id;
        var version = upgraded.Manifest?.Version ?? string.Empty;
        if (sign == CrashLooped)
        {
            Log.CrashLooping(logger, id, version, after, window, why);
        }
        else if (sign == HookCallsWerePaused)
        {
            Log.HookCallsPaused(logger, id, version, after, window, why);
        }
        else
        {
            Log.CallsFailed(logger, id, version, after, window, why);
        }

        _rollingBack[id] = 0;
        InstallResult result;
        try
        {
            result = await rollBack(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Isolation boundary: the plugin stays as it was, as without the watch, and says why.
            result = InstallResult.Fail(500, $"{ex.GetType().Name}: {ex.Message}");
        }

        if (!result.Succeeded)
        {
            _rollingBack.TryRemove(id, out _);
            Log.NotRolledBack(logger, id, version, sign, result.Message);
        }

        var detail = $"{version} {sign} {after.TotalSeconds:0} s after its upgrade ({why}); {(result.Succeeded ? $"rolled back: {result.Message}" : $"not rolled back: {result.Message}")}";
        await audit.RecordAsync(Actor, string.Empty, "plugin.rollback", id, string.Empty, result.Succeeded ? 200 : result.Status, detail).ConfigureAwait(false);
        events.Record(id, result.Succeeded ? "rolled-back" : "rollback-refused", detail);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1094, EventName = "UpgradeCrashLooping", Level = LogLevel.Error, Message = "Plugin {PluginId} {Version} crash-loops {After} after its upgrade, within PluginHost:RollbackOnCrashLoopWithin ({Window}): rolling it back to the bundle it replaced. {Why}")]
        public static partial void CrashLooping(ILogger logger, string pluginId, string version, TimeSpan after, TimeSpan window, string why);

        [LoggerMessage(EventId = 1096, EventName = "UpgradeHookCallsPaused", Level = LogLevel.Error, Message = "Plugin {PluginId} {Version} had its hook calls paused {After} after its upgrade, within PluginHost:RollbackOnHookPauseWithin ({Window}): rolling it back to the bundle it replaced. {Why}")]
        public static partial void HookCallsPaused(ILogger logger, string pluginId, string version, TimeSpan after, TimeSpan window, string why);

        [LoggerMessage(EventId = 1102, EventName = "UpgradeCallsFailed", Level = LogLevel.Error, Message = "Plugin {PluginId} {Version} had its hook or route calls fail {After} after its upgrade, within PluginHost:RollbackOnCallFailuresWithin ({Window}): rolling it back to the bundle it replaced. {Why}")]
        public static partial void CallsFailed(ILogger logger, string pluginId, string version, TimeSpan after, TimeSpan window, string why);

        [LoggerMessage(EventId = 1095, EventName = "UpgradeNotRolledBack", Level = LogLevel.Error, Message = "Plugin {PluginId} {Version} {Sign} after its upgrade and could not be rolled back: {Reason} It stays so until an admin acts (upload and install a version that works, then enable it).")]
        public static partial void NotRolledBack(ILogger logger, string pluginId, string version, string sign, string reason);
    }
}

/// <summary>One thing the host watches an upgraded version for (<c>crash loop</c>, <c>hook calls paused</c>, <c>calls failing</c>), and until when.</summary>
internal sealed record UpgradeWatchItem(string What, DateTimeOffset Until);
