using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Puts a checked version of a plugin in place: a new plugin starts; an upgrade, or a reload
/// from the folder a plugin runs from, starts beside the serving version and takes its calls
/// once Ready while the old one drains; a plugin that serves nothing is replaced at once.
/// </summary>
internal sealed class VersionSwitch(PluginCatalog catalog, PluginLifecycle lifecycle, IOptions<PluginHostOptions> options, TimeProvider time)
{
    /// <summary>Starts a plugin no version of which is installed.</summary>
    public async Task<InstallResult> InstallNewAsync(PluginManifest manifest, string folder, CancellationToken cancellationToken)
    {
        var entry = lifecycle.CreateEntry(manifest, folder);
        catalog.Change(entries => [.. entries, entry]);
        try
        {
            await lifecycle.ActivateNewAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not enabled (the store failed to keep it): not installed, rather than in the catalog
            // unstarted, where the admin's retry would be refused as installed already.
            catalog.Change(entries => [.. entries.Where(e => e != entry)]);
            if (entry.Supervisor is { } supervisor)
            {
                await supervisor.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return InstallResult.Ok(manifest.Id, manifest.Version, "installed");
    }

    /// <summary>
    /// Puts <paramref name="manifest"/> in <paramref name="old"/>'s place: started beside it, calls moved once it is
    /// Ready, the old one drained and stopped; the old one keeps serving if it cannot start.
    /// </summary>
    public async Task<InstallResult> UpgradeAsync(PluginEntry old, PluginManifest manifest, string folder, CancellationToken cancellationToken)
    {
        if (lifecycle.StateOf(old.Id).State is LifecycleState.Disabled or LifecycleState.PendingConfig)
        {
            return await ReplaceDormantAsync(old, manifest, folder, cancellationToken).ConfigureAwait(false);
        }

        var next = lifecycle.CreateEntry(manifest, folder);
        var supervisor = next.Supervisor!;
        await supervisor.StartAsync(cancellationToken).ConfigureAwait(false);

        // The new version must become Ready beside the old one before any call moves.
        var limit = manifest.Limits.StartTimeout ?? options.Value.StartTimeout;
        var start = time.GetTimestamp();
        while (supervisor.State != WorkerState.Ready && time.GetElapsedTime(start) < limit + limit)
        {
            if (supervisor.State is WorkerState.CrashLooping or WorkerState.Halted or WorkerState.Exited)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken).ConfigureAwait(false);
        }

        if (supervisor.State != WorkerState.Ready)
        {
            var reason = supervisor.Snapshot.LastError ?? $"not Ready within {limit.TotalSeconds:0} s";
            await supervisor.DisposeAsync().ConfigureAwait(false);
            return InstallResult.Fail(422, $"upgrade of '{manifest.Id}' to {manifest.Version} failed to start; {old.Manifest!.Version} keeps serving. {reason}");
        }

        catalog.Change(entries => [.. entries.Select(e => e == old ? next : e)]);
        lifecycle.MarkActive(manifest.Id, Switched(old, folder, manifest.Version));
        await old.Supervisor!.DrainAsync(TimeSpan.FromMilliseconds(200), options.Value.RouteTimeout, cancellationToken).ConfigureAwait(false);
        await old.Supervisor.DisposeAsync().ConfigureAwait(false);
        DeleteReplaced(old, folder);
        return InstallResult.Ok(manifest.Id, manifest.Version, Switched(old, folder, to: null));
    }

    /// <summary>
    /// Upgrades a plugin that serves nothing (disabled, or waiting for settings):
    /// there is no call to keep flowing, so the new version takes the old one's
    /// place at once and keeps its state; a disabled plugin stays disabled (as
    /// its persisted state says), one waiting for settings starts if the new
    /// version has what it requires.
    /// </summary>
    private async Task<InstallResult> ReplaceDormantAsync(PluginEntry old, PluginManifest manifest, string folder, CancellationToken cancellationToken)
    {
        var next = lifecycle.CreateEntry(manifest, folder);
        catalog.Change(entries => [.. entries.Select(e => e == old ? next : e)]);
        await old.Supervisor!.DisposeAsync().ConfigureAwait(false);
        DeleteReplaced(old, folder);
        await lifecycle.OnSettingsCommittedAsync(manifest.Id, cancellationToken).ConfigureAwait(false);
        var (state, reason) = lifecycle.StateOf(manifest.Id);
        var now = state switch
        {
            LifecycleState.Disabled => "; it stays disabled: enable it to start this version",
            LifecycleState.PendingConfig => $"; not started: {reason}",
            _ => string.Empty,
        };
        return InstallResult.Ok(manifest.Id, manifest.Version, $"{Switched(old, folder, to: null)}{now}");
    }

    // A reload starts the plugin again from the folder it runs from: that folder stays.
    private static void DeleteReplaced(PluginEntry old, string folder)
    {
        if (old.Folder != folder)
        {
            Directory.Delete(old.Folder, recursive: true);
        }
    }

    /// <summary>What took the old version's place: "upgraded from 1.0.0 to 1.1.0", or a reload from the folder it runs from.</summary>
    private static string Switched(PluginEntry old, string folder, string? to) => old.Folder == folder
        ? $"reloaded from its folder, {old.Manifest!.Version} before{(to is null ? string.Empty : $", {to} now")}"
        : $"upgraded from {old.Manifest!.Version}{(to is null ? string.Empty : $" to {to}")}";
}
