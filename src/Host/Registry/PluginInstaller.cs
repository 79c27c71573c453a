using GrpcPlugins.Host.Bundles;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Installs, upgrades and uninstalls plugins at runtime from signed bundles:
/// stage and verify → show the permissions asked for → install on consent.
/// An upgrade starts the new version beside the old one, switches new calls to
/// it once it is Ready, lets calls in flight on the old one finish, then stops
/// it; if the new version fails to start, the old one keeps serving. The reasons
/// to refuse a version are <see cref="InstallChecks"/>', putting one in place is
/// <see cref="VersionSwitch"/>'s; this class orders the steps, one change at a time.
/// </summary>
internal sealed class PluginInstaller(PluginCatalog catalog, PluginLifecycle lifecycle, IPluginStore store, Replicas.ISharedBundles shared, StagedBundles staging, KeptBundles kept, UpgradeWatch upgradeWatch, InstallChecks checks, VersionSwitch versions, Hooks.Tenancy.TenantScopes tenantScopes, DescribedSchemas describedSchemas, IOptions<PluginHostOptions> options, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>
    /// Verifies an uploaded bundle and keeps it staged under its address; returns what it asks for.
    /// Throws <see cref="NotEnoughRoomException"/> when the state disk has no room for it (<paramref name="length"/>, when declared, is checked first).
    /// </summary>
    public async Task<InstallPreview> StageAsync(Stream upload, long? length, string by, CancellationToken cancellationToken)
    {
        SweepStaging();
        var temp = staging.IncomingPath("upload");
        try
        {
            DiskRoom.Ensure(staging.Root, length ?? 0, options.Value.DiskReserveBytes, "the bundle");
            await using var file = File.Create(temp);
            await DiskRoom.CopyAsync(upload, file, staging.Root, options.Value.DiskReserveBytes, "the bundle", cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (DiskRoom.IsDiskFull(ex))
        {
            File.Delete(temp);
            throw DiskRoom.Full(staging.Root, "the bundle", ex);
        }
        catch
        {
            // An upload that broke off (too large, client gone, no room) leaves nothing staged.
            File.Delete(temp);
            throw;
        }

        var address = BundleArchive.Address(temp);
        var staged = staging.PathOf(address);
        File.Move(temp, staged, overwrite: true);
        var preview = await PreviewAsync(staged, address, cancellationToken).ConfigureAwait(false);
        if (preview.Errors.Count == 0)
        {
            // Its install may reach another replica; one refused here is not offered for install at all.
            await shared.StagedAsync(address, staged, by, staging.Lifetime, cancellationToken).ConfigureAwait(false);
        }

        return preview;
    }

    /// <summary>
    /// Sweeps the staging area unless an install is reading from it: its bundle may be one about to
    /// expire. Skipped, the sweep comes with the next upload; only uploads and reads fill the area.
    /// </summary>
    private void SweepStaging()
    {
        if (_oneAtATime.Wait(0))
        {
            try
            {
                staging.Sweep(starting: false);
            }
            finally
            {
                _oneAtATime.Release();
            }
        }
    }

    /// <summary>Inspects a staged bundle: what it is, what it asks for, and every reason to refuse it.</summary>
    private async Task<InstallPreview> PreviewAsync(string staged, string address, CancellationToken cancellationToken)
    {
        string extracted;
        try
        {
            // Beside the upload, on the disk sized for bundles: a container's /tmp is often a small tmpfs.
            extracted = BundleArchive.Extract(staged, options.Value.BundleLimits, staging.Root);
        }
        catch (BundleFormatException ex)
        {
            // Nothing in it can ever install: keep nothing of it.
            File.Delete(staged);
            return new InstallPreview(address, null, null, null, [], null, [ex.Message]);
        }
        catch (NotEnoughRoomException)
        {
            // Not inspected, so not offered for install: the admin uploads it again once there is room.
            File.Delete(staged);
            throw;
        }

        try
        {
            return await checks.InspectAsync(extracted, address, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(extracted, recursive: true);
        }
    }

    /// <summary>Installs or upgrades from a staged bundle once the admin accepted every permission it asks for; other host replicas follow.</summary>
    public Task<InstallResult> InstallAsync(string address, IReadOnlySet<string> accepted, string by, Hooks.Tenancy.TenantScope? tenantScope, CancellationToken cancellationToken) =>
        InstallStagedAsync(address, accepted, by, tenantScope, followed: false, cancellationToken);

    /// <summary>
    /// Installs again the bundle the plugin's last upgrade through the admin API replaced, as an
    /// upgrade is installed (checked again against the trusted keys, its dependencies and the
    /// stored settings; started beside the version serving, which keeps serving if it cannot
    /// start). Its permissions were consented to when it was first installed. The version rolled
    /// back from is kept in its place, so the rollback can itself be rolled back.
    /// </summary>
    public async Task<InstallResult> RollBackAsync(string id, string by, CancellationToken cancellationToken)
    {
        if (catalog.Find(id) is not { Manifest: not null } entry)
        {
            return InstallResult.Fail(404, $"No plugin with id '{id}' is installed.");
        }

        if (kept.PreviousOf(id, entry.Folder) is not { } previous)
        {
            return InstallResult.Fail(409, $"No earlier bundle of '{id}' is kept to roll back to: the host keeps the one bundle an upgrade through the admin API replaced, and '{id}' {entry.Manifest.Version} replaced none that way. Upload the version you want (POST /admin/api/bundles) and install it.");
        }

        Directory.CreateDirectory(staging.Root);
        File.Copy(previous.Path, staging.PathOf(previous.Address), overwrite: true);
        var result = await InstallStagedAsync(previous.Address, accepted: null, by, tenantScope: null, followed: false, cancellationToken).ConfigureAwait(false);
        return result is { Succeeded: false, Status: 422 }
            ? result with { Message = $"{result.Message} Rolling back to {previous.Version} is installing its bundle ({previous.Address}): where the steps above say install, call POST /admin/api/plugins/{id}/rollback." }
            : result;
    }

    /// <summary>
    /// Starts the plugin again from its folder as the folder is now: its manifest read again and
    /// checked as a load checks it (its signed bundle's digests, or unsigned in development), the
    /// new worker started beside the serving one, which keeps serving if it cannot start; calls
    /// move once it is Ready. For an author who published a new build over the folder of a running
    /// host, or an admin who mended a manifest in place. A permission the loaded manifest did not
    /// ask for must be in <paramref name="accepted"/>. This replica's folder only: replicas install
    /// bundles, which every replica follows.
    /// </summary>
    public async Task<InstallResult> ReloadAsync(string id, IReadOnlySet<string> accepted, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        // As an install: once its turn comes it runs to its end, so no worker is left outside the catalog.
        cancellationToken = CancellationToken.None;
        try
        {
            var entry = catalog.Find(id);
            if (entry is null)
            {
                return InstallResult.Fail(404, $"No plugin with id '{id}' is installed.");
            }

            if (entry is not { Manifest: not null, Supervisor: not null })
            {
                return InstallResult.Fail(409, $"'{id}' was refused at load; mend its folder and restart the host, or install a bundle of it.");
            }

            var (manifest, errors) = await checks.CheckFolderAsync(id, entry, entry.Manifest, cancellationToken).ConfigureAwait(false);
            if (manifest is null)
            {
                return InstallResult.Fail(422, $"'{id}' {entry.Manifest.Version} keeps serving; its folder as it is now would be refused: {string.Join(" ", errors)}");
            }

            var asked = manifest.Permissions.Except(entry.Manifest.Permissions).Where(p => !accepted.Contains(p)).ToList();
            if (asked.Count > 0)
            {
                return InstallResult.Fail(409, $"consent required: its folder's plugin.json now asks for {string.Join(", ", asked)}, which '{id}' {entry.Manifest.Version} did not; reload with ?accept={string.Join(",", asked)}.") with { AwaitingConsent = asked };
            }

            return await versions.UpgradeAsync(entry, manifest, entry.Folder, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>
    /// What <see cref="ReloadAsync"/> would find in <paramref name="id"/>'s folder, changing nothing:
    /// the version there, the permissions it asks for that the serving version did not, and why it
    /// would be refused; null when no such plugin runs.
    /// </summary>
    public async Task<ReloadPreview?> PreviewReloadAsync(string id, CancellationToken cancellationToken)
    {
        if (catalog.Find(id) is not { Manifest: { } serving, Supervisor: not null } entry)
        {
            return null;
        }

        var (manifest, errors) = await checks.CheckFolderAsync(id, entry, serving, cancellationToken).ConfigureAwait(false);
        return new ReloadPreview(id, serving.Version, manifest?.Version, manifest is null ? [] : [.. manifest.Permissions.Except(serving.Permissions)], errors);
    }

    /// <summary>
    /// Installs here what an admin installed on another host replica: the bundle is read from the
    /// shared store, must hash to its address, and is checked as an
    /// upload is, against this replica's trusted keys and installed plugins. The admin consented to
    /// its permissions there; the install is already in the shared history.
    /// </summary>
    public Task<InstallResult> FollowInstallAsync(string address, CancellationToken cancellationToken)
    {
        SweepStaging();
        // No one to name: who installed it is in the shared history, and a followed install sets no scope.
        // Not staged here, it is read from the store as any install's is; 404 when a later change replaced it there.
        return InstallStagedAsync(address, accepted: null, by: string.Empty, tenantScope: null, followed: true, cancellationToken);
    }

    /// <summary>
    /// Stages the bundle the shared store keeps at <paramref name="address"/> (installed or staged
    /// on a replica), checked against its address; null once it is staged, else why not (404 with
    /// <paramref name="notThere"/> when the store has none).
    /// </summary>
    private async Task<InstallResult?> FetchFromStoreAsync(string address, string notThere, CancellationToken cancellationToken)
    {
        var fetched = staging.IncomingPath("fetch");
        try
        {
            try
            {
                if (!await shared.FetchAsync(address, fetched, cancellationToken).ConfigureAwait(false))
                {
                    return InstallResult.Fail(404, notThere);
                }
            }
            catch (IOException ex) when (DiskRoom.IsDiskFull(ex))
            {
                return InstallResult.Fail(507, DiskRoom.Full(staging.Root, "reading the bundle from the shared store", ex).Message);
            }

            if (BundleArchive.Address(fetched) != address)
            {
                return InstallResult.Fail(422, $"the bundle read from the shared store does not hash to {address}: its copy there is damaged. Upload it again, on any replica.");
            }

            File.Move(fetched, staging.PathOf(address), overwrite: true);
            return null;
        }
        finally
        {
            File.Delete(fetched);
        }
    }

    /// <summary>Whether a plugin's folder holds the bundle at <paramref name="address"/> (as an install named it).</summary>
    public static bool IsFrom(string folder, string address) =>
        BundleArchive.IsAddress(address) && Path.GetFileName(folder).EndsWith(FolderSuffix(address), StringComparison.Ordinal);

    private static string FolderSuffix(string address) => $"-{address[7..19]}";

    /// <summary>
    /// Installs or upgrades from a staged bundle. <paramref name="accepted"/> is null when the admin
    /// consented on the replica the install is <paramref name="followed"/> from, whose shared
    /// history and bundles have it already.
    /// </summary>
    private async Task<InstallResult> InstallStagedAsync(string address, IReadOnlySet<string>? accepted, string by, Hooks.Tenancy.TenantScope? tenantScope, bool followed, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        // Once its turn comes, an install runs to its end even if the admin stops waiting:
        // cut half-way, it would leave a worker outside the catalog, or a folder that loads
        // at the next start. Its own bounds (start timeout, route timeout) still hold.
        cancellationToken = CancellationToken.None;
        try
        {
            if (!BundleArchive.IsAddress(address))
            {
                return InstallResult.Fail(404, $"'{address}' is not a bundle address (sha256: and 64 lowercase hex digits); POST /admin/api/bundles answers with the address of what it staged.");
            }

            var staged = staging.PathOf(address);
            if (!File.Exists(staged))
            {
                if (catalog.Entries.FirstOrDefault(e => IsFrom(e.Folder, address)) is { } from)
                {
                    return InstallResult.Fail(409, $"'{from.Id}' {from.Manifest?.Version} is installed already from this very bundle ({from.Folder}).");
                }

                // Uploaded through another replica (a load balancer sends each request where it will): the shared store keeps it.
                var notStaged = $"no staged bundle {address}; upload it to POST /admin/api/bundles first (a bundle stays staged until it is installed, or for PluginHost:StagedBundleLifetime, {staging.Lifetime}, after its upload).";
                if (await FetchFromStoreAsync(address, notStaged, cancellationToken).ConfigureAwait(false) is { } notFetched)
                {
                    return notFetched;
                }
            }

            // Extracted once, beside its final place, and checked again there rather than
            // trusted from the upload: keys and installed dependencies may have changed since.
            Directory.CreateDirectory(options.Value.PluginsDirectory);
            string extracted;
            try
            {
                extracted = BundleArchive.Extract(staged, options.Value.BundleLimits, options.Value.PluginsDirectory);
            }
            catch (BundleFormatException ex)
            {
                return InstallResult.Fail(422, ex.Message);
            }
            catch (NotEnoughRoomException ex)
            {
                return InstallResult.Fail(507, $"{ex.Message} The bundle stays staged: install it again once there is room.");
            }

            InstallPreview preview;
            try
            {
                preview = await checks.InspectAsync(extracted, address, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Directory.Delete(extracted, recursive: true);
                throw;
            }

            var missing = accepted is null ? [] : preview.Permissions.Where(p => !accepted.Contains(p)).ToList();
            if (preview.Errors.Count > 0 || missing.Count > 0)
            {
                Directory.Delete(extracted, recursive: true);
                return preview.Errors.Count > 0
                    ? InstallResult.Fail(422, string.Join(" ", preview.Errors))
                    : InstallResult.Fail(409, $"consent required: accept the permissions {string.Join(", ", missing)} (?accept={string.Join(",", preview.Permissions)}).") with { AwaitingConsent = missing };
            }

            if (catalog.Find(preview.Id!) is { Supervisor: null } refused)
            {
                // The bundle replaces a copy refused at load (files modified since install, say):
                // left in place it would compete with the new folder for the id at the next start.
                catalog.Change(entries => [.. entries.Where(e => e != refused)]);
                if (Directory.Exists(refused.Folder))
                {
                    Directory.Delete(refused.Folder, recursive: true);
                }
            }

            var folder = Path.Combine(options.Value.PluginsDirectory, $"{preview.Id}-{preview.Version}{FolderSuffix(address)}");
            if (Directory.Exists(folder))
            {
                // Not in this host's catalog, yet there: another host put it (replicas sharing one
                // plugins directory), and replacing it would pull it from under that host's workers.
                Directory.Delete(extracted, recursive: true);
                return catalog.Find(preview.Id!)?.Folder == folder
                    ? InstallResult.Fail(409, $"'{preview.Id}' {preview.Version} is installed already from this very bundle ({folder}).")
                    : InstallResult.Fail(409, $"{folder} exists already, but this host did not load it: does another host replica share this plugins directory? Give each replica a PluginHost:PluginsDirectory of its own (as each pod has its own image); the replicas install and uninstall together through the shared store.");
            }

            // A scope given with the install holds from the plugin's first hook call: a gateway
            // installing a plugin for some tenants never lets the others' calls reach it. It is
            // kept before the folder takes its place, so a store that refuses it leaves no folder
            // to load, for every tenant, at the next start.
            var scopeBefore = tenantScopes.SetByAdmin(preview.Id!);
            if (tenantScope is not null)
            {
                try
                {
                    await tenantScopes.SetAsync(preview.Id!, tenantScope, by, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    Directory.Delete(extracted, recursive: true);
                    throw;
                }
            }

            Directory.Move(extracted, folder);
            var manifest = ManifestReader.Read(folder, out _)!;

            var current = catalog.Find(manifest.Id);
            var upgrade = current is { Supervisor: not null };
            InstallResult result;
            try
            {
                result = upgrade
                    ? await versions.UpgradeAsync(current!, manifest, folder, cancellationToken).ConfigureAwait(false)
                    : await versions.InstallNewAsync(manifest, folder, cancellationToken).ConfigureAwait(false);
            }
            catch when (catalog.Find(manifest.Id)?.Folder != folder)
            {
                // Failed by an exception (the store), not refused: nothing of it stays to load at the next start.
                Directory.Delete(folder, recursive: true);
                if (tenantScope is not null)
                {
                    await tenantScopes.RestoreAsync(manifest.Id, scopeBefore, by, cancellationToken).ConfigureAwait(false);
                }

                throw;
            }

            if (result.Succeeded)
            {
                if (upgrade)
                {
                    upgradeWatch.Watch(catalog.Find(manifest.Id)!, ct => RollBackAsync(manifest.Id, UpgradeWatch.Actor, ct));
                }

                if (!followed)
                {
                    await store.RecordInstallAsync(new InstallRecord(manifest.Id, manifest.Version, address, preview.Signer ?? string.Empty, time.GetUtcNow(), by), cancellationToken).ConfigureAwait(false);
                    await shared.InstalledAsync(manifest.Id, manifest.Version, address, staged, by, cancellationToken).ConfigureAwait(false);
                }

                // It leaves the staging area, kept with the bundle it replaced, for a rollback. A
                // refused install keeps its bundle staged, for a retry once its cause is mended.
                kept.Installed(manifest.Id, manifest.Version, address, staged, current?.Folder);
            }
            else
            {
                Directory.Delete(folder, recursive: true);
                if (tenantScope is not null)
                {
                    // A refused install changes nothing, its scope included.
                    await tenantScopes.RestoreAsync(manifest.Id, scopeBefore, by, cancellationToken).ConfigureAwait(false);
                }
            }

            return result;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>
    /// Stops the plugin, removes its files, and keeps or deletes its settings; refused while installed
    /// plugins depend on it. An uninstall <paramref name="followed"/> from another host replica leaves
    /// the shared store alone: that replica deleted the settings (if asked) and told the others.
    /// </summary>
    public async Task<InstallResult> UninstallAsync(string id, bool keepSettings, string by, bool followed, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        cancellationToken = CancellationToken.None; // runs to its end once begun, as an install does
        try
        {
            if (catalog.Find(id) is not { } entry)
            {
                return InstallResult.Fail(404, $"No plugin with id '{id}' is installed.");
            }

            var installed = checks.Installed();
            var dependents = DependencyResolver.RefusalsCausedBy(installed, [.. installed.Where(m => m.Id != id)]);
            if (dependents.Count > 0)
            {
                return InstallResult.Fail(409, $"'{id}' is a dependency of {string.Join(", ", dependents.Keys.Order(StringComparer.Ordinal).Select(d => $"'{d}'"))}, which would be refused at their next start. Uninstall those first.");
            }

            // The store first: an uninstall the store cannot record leaves the plugin serving as it
            // was (the admin is answered 503 and sends it again), where one stopped and deleted first
            // left its settings behind, and on replicas an install the others kept and this one
            // followed again at its next start.
            if (!followed)
            {
                if (!keepSettings)
                {
                    await store.DeletePluginAsync(id, cancellationToken).ConfigureAwait(false);
                }

                await shared.UninstalledAsync(id, entry.Manifest?.Version ?? string.Empty, keepSettings, by, cancellationToken).ConfigureAwait(false);
            }

            catalog.Change(entries => [.. entries.Where(e => e != entry)]);
            if (entry.Supervisor is { } supervisor)
            {
                await supervisor.DrainAsync(TimeSpan.FromMilliseconds(100), options.Value.RouteTimeout, cancellationToken).ConfigureAwait(false);
                await supervisor.DisposeAsync().ConfigureAwait(false);
            }

            Directory.Delete(entry.Folder, recursive: true);
            if (!keepSettings)
            {
                await tenantScopes.ForgetAsync(id).ConfigureAwait(false);
                describedSchemas.Forget(id);
                PluginDataDirectory.Delete(options.Value, id);
            }

            lifecycle.Forget(id);
            kept.Forget(id);
            return InstallResult.Ok(id, entry.Manifest?.Version ?? string.Empty, "uninstalled");
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose() => _oneAtATime.Dispose();
}
