using GrpcPlugins.Host.Registry;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// A worker's start reads the stored settings, then configures the worker, then it is Ready.
/// A write committed in between finds no Ready worker to offer it to, so it is only stored (as
/// is one from another host replica); once the worker is Ready, every scope whose revision is
/// not the one it was started with is given to it, in the writers' turn, and a scope deleted
/// meanwhile is taken from it. Nothing written during a start waits for the next one.
/// </summary>
internal sealed partial class SettingsCatchUp(SettingsService settings, IPluginStore store, LifecycleEvents events, ILogger<SettingsCatchUp> logger)
{
    public async Task RunAsync(string pluginId, IReadOnlyDictionary<string, long> configured, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await store.ListSettingsScopesAsync(pluginId, cancellationToken).ConfigureAwait(false);
            foreach (var scope in stored.Where(s => !configured.TryGetValue(s.TenantId, out var revision) || revision != s.Revision))
            {
                var push = await settings.PushStoredAsync(pluginId, scope.TenantId, cancellationToken).ConfigureAwait(false);
                events.Record(pluginId, push.Outcome == ReplicaPushOutcome.Configured ? "settings-caught-up" : "settings-not-caught-up", $"{Scope(scope.TenantId)} revision {push.Revision}, written while the worker started: {push.Outcome}{(push.Detail is null ? string.Empty : $" ({push.Detail})")}");
            }

            foreach (var gone in configured.Keys.Where(t => t.Length > 0 && !stored.Any(s => s.TenantId == t)))
            {
                await settings.PushDeletionAsync(pluginId, gone, cancellationToken).ConfigureAwait(false);
                events.Record(pluginId, "settings-caught-up", $"{Scope(gone)} deleted while the worker started");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Its own task, started from a state change: logged here, or nowhere.
            Log.Failed(logger, pluginId, ex);
        }
    }

    private static string Scope(string tenantId) => tenantId.Length == 0 ? "plugin-wide" : $"tenant '{tenantId}'";

    private static partial class Log
    {
        [LoggerMessage(EventId = 1051, EventName = "SettingsCatchUpFailed", Level = LogLevel.Error, Message = "Plugin {PluginId}'s settings written while its worker started could not be given to it; it runs with those it started with until it restarts.")]
        public static partial void Failed(ILogger logger, string pluginId, Exception exception);
    }
}
