using GrpcPlugins.Host.Registry;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// Makes this replica run what an admin installed or uninstalled on another: the bundle is read
/// from the shared store and installed here (checked against this replica's own trusted keys),
/// or the plugin is uninstalled here as it was there. A plugin no admin ever installed through a
/// replica is the deployment's, and is left as the deployment has it.
/// </summary>
internal sealed partial class InstallFollower(ISharedBundles shared, PluginCatalog catalog, PluginInstaller installer, LifecycleEvents events, ILogger<InstallFollower> logger)
{
    /// <summary>
    /// Brings the plugin to what the replicas must run; false when no admin installed or
    /// uninstalled it on a replica. Throws <see cref="FollowRefusedException"/>, saying why, when
    /// this replica cannot follow (a signer it does not trust, a dependency it lacks): it keeps what
    /// it has, and the event for it is the caller's to record, once.
    /// </summary>
    public async Task<bool> FollowAsync(string pluginId, CancellationToken cancellationToken) =>
        await shared.GetAsync(pluginId, cancellationToken).ConfigureAwait(false) is { } wanted
        && await FollowAsync(wanted, cancellationToken).ConfigureAwait(false);

    /// <summary>Brings the plugin to <paramref name="wanted"/>, as read from the store (a replica's start reads every row at once).</summary>
    public async Task<bool> FollowAsync(ClusterPlugin wanted, CancellationToken cancellationToken)
    {
        var pluginId = wanted.PluginId;
        var here = catalog.Find(pluginId);
        var where = $"on host replica '{wanted.Replica}' by {wanted.By}";
        if (wanted.Address is null)
        {
            if (here is not null)
            {
                var removed = await installer.UninstallAsync(pluginId, wanted.KeepSettings, wanted.By, followed: true, cancellationToken).ConfigureAwait(false);
                if (!removed.Succeeded)
                {
                    throw new FollowRefusedException($"Plugin '{pluginId}' was uninstalled {where}, but not here: {removed.Message}", pluginId, "uninstall-not-followed", $"uninstalled {where}: {removed.Message}");
                }

                Log.UninstallFollowed(logger, pluginId, wanted.Replica);
                events.Record(pluginId, "uninstall-followed", $"uninstalled {where}{(wanted.KeepSettings ? "; settings kept" : "; settings and this replica's data directory deleted")}");
            }

            return true;
        }

        if (here is not null && PluginInstaller.IsFrom(here.Folder, wanted.Address))
        {
            return true;
        }

        var address = wanted.Address;
        var installed = await installer.FollowInstallAsync(address, cancellationToken).ConfigureAwait(false);
        if (installed.Status == 404)
        {
            // Replaced in the store since it was read (an upgrade right after the install): not a
            // failure, and the change that replaced it is already queued behind this one.
            return true;
        }

        if (!installed.Succeeded)
        {
            throw new FollowRefusedException(
                $"Plugin '{pluginId}' {wanted.Version} was installed {where} ({address}), but this replica could not install it: {installed.Message} {(here?.Manifest is { } kept ? $"It keeps {kept.Version}" : "It does not run it")}; mend the cause here (its trusted keys, its dependencies): it tries again by itself, waiting longer each time (PluginHost:Store:FollowRetryInterval, doubling up to 5 minutes).",
                pluginId,
                "install-not-followed",
                $"{wanted.Version} installed {where}: {installed.Message}");
        }

        Log.InstallFollowed(logger, pluginId, wanted.Version, wanted.Replica, installed.Message);
        events.Record(pluginId, "install-followed", $"{wanted.Version} installed {where}: {installed.Message} here");
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1091, EventName = "InstallFollowed", Level = LogLevel.Information, Message = "Plugin {PluginId} {Version}, installed on host replica '{Replica}', is {Outcome} here too, from the bundle in the shared store.")]
        public static partial void InstallFollowed(ILogger logger, string pluginId, string version, string replica, string outcome);

        [LoggerMessage(EventId = 1092, EventName = "UninstallFollowed", Level = LogLevel.Information, Message = "Plugin {PluginId}, uninstalled on host replica '{Replica}', is uninstalled here too.")]
        public static partial void UninstallFollowed(ILogger logger, string pluginId, string replica);
    }
}
