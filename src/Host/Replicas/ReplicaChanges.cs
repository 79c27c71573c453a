using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// Carries out here what another host replica changed in the shared store: the running plugins
/// get the settings it committed, follow its enable and disable, and its tenant scopes apply to
/// this replica's hooks. Each change is read back from the store, never taken from the notice.
/// An admin's install or uninstall there is followed here (<see cref="InstallFollower"/>); the
/// plugins each replica's deployment brought are left as that deployment has them.
/// </summary>
internal sealed partial class ReplicaChanges(
    PluginCatalog catalog,
    PluginLifecycle lifecycle,
    SettingsService settings,
    Hooks.Tenancy.TenantScopes scopes,
    IPluginStore store,
    ISharedBundles shared,
    InstallFollower follower,
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
                // The uninstall that deleted them follows with its own notice (Uninstalled).
                await scopes.ReloadAsync(id, cancellationToken).ConfigureAwait(false);
                break;
            case StoreChangeKind.Installed or StoreChangeKind.Uninstalled:
                await follower.FollowAsync(id, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>The plugins a resync reads again: those this replica runs or could run, and those an admin installed or uninstalled on any replica.</summary>
    public async Task<IReadOnlyCollection<string>> PluginsToResyncAsync(CancellationToken cancellationToken)
    {
        var ids = catalog.Entries.Where(e => e.Supervisor is not null).Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        ids.UnionWith((await shared.ListAsync(cancellationToken).ConfigureAwait(false)).Select(p => p.PluginId));
        return ids;
    }

    /// <summary>
    /// After the notices were out of reach (a lost connection), everything they could have said
    /// of one plugin: its enabled state, tenant scope and settings, as the store holds them now.
    /// </summary>
    public async Task ResyncAsync(string id, CancellationToken cancellationToken)
    {
        const string where = "on another host replica (read again after a lost link)";
        FollowRefusedException? refused = null;
        try
        {
            await follower.FollowAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (FollowRefusedException ex)
        {
            // The version this replica keeps still takes the state the store holds now.
            refused = ex;
        }

        if (catalog.Find(id) is not null)
        {
            await lifecycle.FollowStoredEnabledAsync(id, where, cancellationToken).ConfigureAwait(false);
            await scopes.ReloadAsync(id, cancellationToken).ConfigureAwait(false);
            foreach (var scope in await store.ListSettingsScopesAsync(id, cancellationToken).ConfigureAwait(false))
            {
                await PushSettingsAsync(id, scope.TenantId, where, cancellationToken).ConfigureAwait(false);
            }
        }

        if (refused is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
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
    }
}
