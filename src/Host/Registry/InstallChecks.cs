using GrpcPlugins.Host.Bundles;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Every reason to refuse a version of a plugin before it is put in place, whether it comes as
/// a bundle (uploaded, read from the shared store, kept for a rollback) or from the folder a
/// plugin runs from (a reload): its signature and manifest, its dependencies and its dependents,
/// and the settings the serving version has stored.
/// </summary>
internal sealed class InstallChecks(PluginCatalog catalog, PluginLifecycle lifecycle, StoredSettingsCheck settingsCheck, IOptions<PluginHostOptions> options)
{
    /// <summary>Inspects an extracted bundle: what it is, what it asks for, and every reason to refuse it.</summary>
    public async Task<InstallPreview> InspectAsync(string extracted, string address, CancellationToken cancellationToken)
    {
        var (manifest, signed, errors) = BundleInspection.Inspect(extracted, TrustStore.Load(options.Value.TrustedKeysDirectory));
        if (manifest is not null)
        {
            errors.AddRange(DependencyRefusals(manifest));
        }

        var current = manifest is null ? null : catalog.Find(manifest.Id)?.Manifest;
        if (manifest is not null && current is not null && await SettingsRefusalAsync(manifest, current, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            errors.Add(refusal);
        }

        return new InstallPreview(address, manifest?.Id, manifest?.Version, current?.Version, manifest?.Permissions ?? [], signed is null ? null : SignerOf(extracted), errors);
    }

    /// <summary>
    /// A serving plugin is replaced only by a version that accepts its stored
    /// settings: started with settings its schema refuses, the new version
    /// would fail (or worse, run misconfigured) after the old one stopped. A
    /// dormant plugin has nothing to keep serving; its new version waits for
    /// settings as a first install does.
    /// </summary>
    private async Task<string?> SettingsRefusalAsync(PluginManifest manifest, PluginManifest current, CancellationToken cancellationToken)
    {
        if (lifecycle.StateOf(manifest.Id).State is LifecycleState.Disabled or LifecycleState.PendingConfig or LifecycleState.Refused
            || await settingsCheck.FindAsync(manifest, cancellationToken).ConfigureAwait(false) is not { } problem)
        {
            return null;
        }

        return $"settings: {manifest.Version} would not start with what '{manifest.Id}' has stored: {problem.What}; {current.Version} keeps serving. "
            + $"Disable '{manifest.Id}', install this bundle (it stays disabled), store the settings {manifest.Version} needs ({problem.Calls(manifest.Id)}), then enable it.";
    }

    /// <summary>The manifest <paramref name="entry"/>'s folder holds now, checked as a load checks it; null with every reason when it would be refused.</summary>
    public async Task<(PluginManifest? Manifest, IReadOnlyList<string> Errors)> CheckFolderAsync(string id, PluginEntry entry, PluginManifest serving, CancellationToken cancellationToken)
    {
        var found = lifecycle.ReadFolder(id, entry.Folder);
        var errors = found.Errors.ToList();
        if (found.Manifest is { } read && read.Id != id)
        {
            errors.Add($"its folder's plugin.json now says id '{read.Id}'; a reload keeps the id ('{id}'): install the other plugin as a bundle.");
        }

        if (found.Manifest is { } readManifest)
        {
            errors.AddRange(DependencyRefusals(readManifest));
            if (await SettingsRefusalAsync(readManifest, serving, cancellationToken).ConfigureAwait(false) is { } refusal)
            {
                errors.Add(refusal);
            }
        }

        return (errors.Count == 0 ? found.Manifest : null, errors);
    }

    /// <summary>Every dependency that <paramref name="manifest"/> in place of its installed version would break: its own, then the installed plugins'.</summary>
    public IEnumerable<string> DependencyRefusals(PluginManifest manifest)
    {
        var installed = Installed();
        var changed = DependencyResolver.RefusalsCausedBy(installed, [.. installed.Where(m => m.Id != manifest.Id), manifest]);
        return changed.OrderBy(r => r.Key != manifest.Id).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Key == manifest.Id
            ? $"dependency: '{r.Key}' {r.Value}"
            : $"dependency: installed plugin '{r.Key}' would be refused at its next start, as it {r.Value} Upgrade or uninstall '{r.Key}' first.");
    }

    /// <summary>The manifests of the plugins that load (refused ones are not counted on by anyone).</summary>
    public List<PluginManifest> Installed() => [.. catalog.Entries.Where(e => e.Supervisor is not null).Select(e => e.Manifest!)];

    private static string SignerOf(string extracted)
    {
        var signature = BundleSignature.Parse(File.ReadAllBytes(Path.Combine(extracted, BundleManifest.Directory, BundleManifest.SignatureFile)));
        return signature?.KeyId ?? string.Empty;
    }
}
