using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// Carries out here what another host replica changed in the shared store: the running plugins
/// get the settings it committed, follow its enable and disable, and its tenant scopes apply to
/// this replica's hooks. Each change is read back from the store, never taken from the notice.
/// A replica's plugin folders are its own, so an install or uninstall elsewhere is reported
/// here, not copied.
/// </summary>
internal sealed partial class ReplicaChanges(
    PluginCatalog catalog,
    PluginLifecycle lifecycle,
    SettingsService settings,
    Hooks.Tenancy.TenantScopes scopes,
    IPluginStore store,
    LifecycleEvents events,
    ILogger<ReplicaChanges> logger)
{
    public async Task ApplyAsync(StoreChange change, CancellationToken cancellationToken)
    {
        var id = change.PluginId;
        var where = $"on host replica '{change.Replica}'";
        switch (change.Kind)
        {
            case StoreChangeKind.Settings:
                await PushSettingsAsync(id, change.TenantId, where, cancellationToken).ConfigureAwait(false);
                break;
            case StoreChangeKind.SettingsDeleted:
                if (await settings.PushDeletionAsync(id, change.TenantId, cancellationToken).ConfigureAwait(false) is { } deletion)
                {
                    events.Record(id, "settings-deleted", $"{Scope(change.TenantId)} {where}; the running plugin here: {deletion.Plugin}");
                }

                break;
            case StoreChangeKind.Enabled:
                await lifecycle.FollowStoredEnabledAsync(id, where, cancellationToken).ConfigureAwait(false);
                break;
            case StoreChangeKind.TenantScope:
                var now = await scopes.ReloadAsync(id, cancellationToken).ConfigureAwait(false);
                events.Record(id, "tenant-scope-changed", $"{now} {where}");
                break;
            case StoreChangeKind.PluginDeleted:
                await scopes.ReloadAsync(id, cancellationToken).ConfigureAwait(false);
                if (catalog.Find(id) is { } entry)
                {
                    Log.UninstalledElsewhere(logger, id, change.Replica, entry.Folder);
                    events.Record(id, "uninstalled-elsewhere", $"host replica '{change.Replica}' uninstalled it and deleted its settings; this replica still has {entry.Folder}");
                }

                break;
            case StoreChangeKind.Installed:
                var installs = await store.GetInstallsAsync(id, cancellationToken).ConfigureAwait(false);
                var latest = installs.Count > 0 ? installs[^1].Version : "?";
                var here = catalog.Find(id)?.Manifest?.Version;
                if (here != latest)
                {
                    Log.InstalledElsewhere(logger, id, latest, change.Replica, here ?? "none");
                    events.Record(id, "installed-elsewhere", $"version {latest} {where}; this replica runs {here ?? "none"}");
                }

                break;
        }
    }

    /// <summary>The plugins a resync reads again: those this replica runs or could run.</summary>
    public IEnumerable<string> ManagedPlugins() => catalog.Entries.Where(e => e.Supervisor is not null).Select(e => e.Id);

    /// <summary>
    /// After the notices were out of reach (a lost connection), everything they could have said
    /// of one plugin: its enabled state, tenant scope and settings, as the store holds them now.
    /// </summary>
    public async Task ResyncAsync(string id, CancellationToken cancellationToken)
    {
        const string where = "on another host replica (read again after a lost link)";
        await lifecycle.FollowStoredEnabledAsync(id, where, cancellationToken).ConfigureAwait(false);
        await scopes.ReloadAsync(id, cancellationToken).ConfigureAwait(false);
        foreach (var scope in await store.ListSettingsScopesAsync(id, cancellationToken).ConfigureAwait(false))
        {
            await PushSettingsAsync(id, scope.TenantId, where, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PushSettingsAsync(string id, string tenantId, string where, CancellationToken cancellationToken)
    {
        var push = await settings.PushStoredAsync(id, tenantId, cancellationToken).ConfigureAwait(false);
        switch (push.Outcome)
        {
            case ReplicaPushOutcome.Configured or ReplicaPushOutcome.NotRunning:
                events.Record(id, "settings-changed", $"{Scope(tenantId)} revision {push.Revision} {where}");
                break;
            case ReplicaPushOutcome.Refused:
                Log.Refused(logger, id, Scope(tenantId), push.Revision, where, push.Detail!);
                events.Record(id, "settings-refused", $"{Scope(tenantId)} revision {push.Revision} {where}: {push.Detail}");
                break;
            case ReplicaPushOutcome.NotAnswered:
                events.Record(id, "settings-not-answered", $"{Scope(tenantId)} revision {push.Revision} {where}: {push.Detail}");
                break;
        }

        // A plugin waiting here for settings another replica gave it starts.
        await lifecycle.OnSettingsCommittedAsync(id, cancellationToken).ConfigureAwait(false);
    }

    private static string Scope(string tenantId) => tenantId.Length == 0 ? "plugin-wide" : $"tenant '{tenantId}'";

    private static partial class Log
    {
        [LoggerMessage(EventId = 1081, EventName = "ReplicaSettingsRefused", Level = LogLevel.Error, Message = "Plugin {PluginId} here refused its {Scope} settings (revision {Revision}) committed {Where}: {Errors}. It keeps its previous settings here until it restarts; the replicas' plugins differ (compare their versions) or the plugin validates against something local.")]
        public static partial void Refused(ILogger logger, string pluginId, string scope, long revision, string where, string errors);

        [LoggerMessage(EventId = 1082, EventName = "UninstalledElsewhere", Level = LogLevel.Warning, Message = "Plugin {PluginId} was uninstalled on host replica '{Replica}' and its settings deleted, but this replica still has it in {Folder}. Replicas read their own plugins directories: uninstall it here too, or deploy this replica without it.")]
        public static partial void UninstalledElsewhere(ILogger logger, string pluginId, string replica, string folder);

        [LoggerMessage(EventId = 1083, EventName = "InstalledElsewhere", Level = LogLevel.Warning, Message = "Plugin {PluginId} {Version} was installed on host replica '{Replica}'; this replica runs {Here}. Replicas read their own plugins directories: install the same bundle here too, or deploy the replicas from one image.")]
        public static partial void InstalledElsewhere(ILogger logger, string pluginId, string version, string replica, string here);
    }
}
