using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Bundles;

/// <summary>Installs a bundle into a plugins directory: extract, verify signature, digests and manifest, then move into place.</summary>
internal static class BundleInstaller
{
    /// <summary>The installed plugin id and the bundle's address; throws <see cref="InvalidDataException"/> with every problem.</summary>
    public static (string PluginId, string Address) Install(string bundle, string pluginsDirectory, TrustStore trust)
    {
        var address = BundleArchive.Address(bundle);
        var extracted = BundleArchive.Extract(bundle);
        try
        {
            var problems = BundleVerifier.Verify(extracted, trust, out var signed) ?? ["unsigned: the archive has no .bundle/ folder; sign it with 'pack'."];
            var manifest = ManifestReader.Read(extracted, out var manifestErrors);
            var errors = problems.Concat(manifestErrors).ToList();
            if (manifest is not null && signed is not null && (manifest.Id != signed.PluginId || manifest.Version != signed.Version))
            {
                errors.Add($"bundle: signed for {signed.PluginId} {signed.Version}, but plugin.json says {manifest.Id} {manifest.Version}.");
            }

            if (errors.Count > 0 || manifest is null)
            {
                throw new InvalidDataException($"{bundle} ({address}) refused: {string.Join(" ", errors)}");
            }

            var target = Path.Combine(pluginsDirectory, manifest.Id);
            if (Directory.Exists(target))
            {
                throw new InvalidDataException($"plugin '{manifest.Id}' is already installed in {target}; uninstall it first.");
            }

            Directory.CreateDirectory(pluginsDirectory);
            Directory.Move(extracted, target);
            return (manifest.Id, address);
        }
        finally
        {
            if (Directory.Exists(extracted))
            {
                Directory.Delete(extracted, recursive: true);
            }
        }
    }
}
