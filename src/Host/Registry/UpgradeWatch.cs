using System.Collections.Concurrent;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Watches a version an upgrade switched to for <see cref="PluginHostOptions.RollbackOnCrashLoopWithin"/>:
/// if it crash-loops within that time (it started, then kept dying: a fault its start did not
/// show, met on real traffic), the host rolls it back to the bundle it replaced, at 3 a.m. as at
/// noon, instead of leaving the plugin down until an admin comes. Said as an error, a lifecycle
/// event and the host's own entry in the audit trail. The version a rollback brings back is
/// not watched in turn: two versions are not swapped back and forth.
/// </summary>
internal sealed partial class UpgradeWatch(IOptions<PluginHostOptions> options, AuditTrail audit, LifecycleEvents events, TimeProvider time, ILogger<UpgradeWatch> logger)
{
    /// <summary>Who the audit trail says acted.</summary>
    public const string Actor = "host";

    private readonly ConcurrentDictionary<string, byte> _rollingBack = new(StringComparer.Ordinal);

    /// <summary>Watches <paramref name="upgraded"/>'s new version; <paramref name="rollBack"/> installs the bundle it replaced.</summary>
    public void Watch(PluginEntry upgraded, Func<CancellationToken, Task<InstallResult>> rollBack)
    {
        var window = options.Value.RollbackOnCrashLoopWithin;
        if (_rollingBack.TryRemove(upgraded.Id, out _) || window <= TimeSpan.Zero || upgraded.Supervisor is not { } supervisor)
        {
            return;
        }

        var since = time.GetTimestamp();
        var fired = 0;
        void OnChanged(WorkerSnapshot snapshot)
        {
            if (snapshot.State != WorkerState.CrashLooping)
            {
                return;
            }

            supervisor.StateChanged -= OnChanged;
            var after = time.GetElapsedTime(since);
            if (after <= window && Interlocked.Exchange(ref fired, 1) == 0)
            {
                // Off the supervisor's thread: the rollback stops this very supervisor.
                _ = Task.Run(() => RollBackAsync(upgraded, snapshot.LastError ?? "crash loop", after, rollBack));
            }
        }

        supervisor.StateChanged += OnChanged;
        // A version that died over and over before the upgrade's answer was out is caught too.
        OnChanged(supervisor.Snapshot);
    }

    private async Task RollBackAsync(PluginEntry upgraded, string why, TimeSpan after, Func<CancellationToken, Task<InstallResult>> rollBack)
    {
        var id = upgraded.Id;
        var version = upgraded.Manifest?.Version ?? string.Empty;
        Log.RollingBack(logger, id, version, after, options.Value.RollbackOnCrashLoopWithin, why);
        _rollingBack[id] = 0;
        InstallResult result;
        try
        {
            result = await rollBack(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Isolation boundary: the plugin stays crash-looping, as without the watch, and says why.
            result = InstallResult.Fail(500, $"{ex.GetType().Name}: {ex.Message}");
        }

        if (!result.Succeeded)
        {
            _rollingBack.TryRemove(id, out _);
            Log.NotRolledBack(logger, id, version, result.Message);
        }

        var detail = $"{version} crash-looped {after.TotalSeconds:0} s after its upgrade ({why}); {(result.Succeeded ? $"rolled back: {result.Message}" : $"not rolled back: {result.Message}")}";
        await audit.RecordAsync(Actor, string.Empty, "plugin.rollback", id, string.Empty, result.Succeeded ? 200 : result.Status, detail).ConfigureAwait(false);
        events.Record(id, result.Succeeded ? "rolled-back" : "rollback-refused", detail);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1094, EventName = "UpgradeCrashLooping", Level = LogLevel.Error, Message = "Plugin {PluginId} {Version} crash-loops {After} after its upgrade, within PluginHost:RollbackOnCrashLoopWithin ({Window}): rolling it back to the bundle it replaced. {Why}")]
        public static partial void RollingBack(ILogger logger, string pluginId, string version, TimeSpan after, TimeSpan window, string why);

        [LoggerMessage(EventId = 1095, EventName = "UpgradeNotRolledBack", Level = LogLevel.Error, Message = "Plugin {PluginId} {Version} crash-loops after its upgrade and could not be rolled back: {Reason} It stays down until an admin acts (upload and install a version that works, then enable it).")]
        public static partial void NotRolledBack(ILogger logger, string pluginId, string version, string reason);
    }
}
