using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Bundles;

/// <summary>Installs a bundle into a plugins directory: extract, verify signature, digests and manifest, then move into place.</summary>
internal static class BundleInstaller
{
    /// <summary>The installed plugin id and the bundle's address; throws <see cref="InvalidDataException"/> with every problem.</summary>
    public static (string PluginId, string Address) Install(string bundle, string pluginsDirectory, TrustStore trust, BundleLimits limits)
    {
        var address = BundleArchive.Address(bundle);
        Directory.CreateDirectory(pluginsDirectory);
        var extracted = BundleArchive.Extract(bundle, limits, pluginsDirectory);
        try
        {
            var (manifest, _, errors) = BundleInspection.Inspect(extracted, trust);
            if (errors.Count > 0 || manifest is null)
            {
                throw new InvalidDataException($"{bundle} ({address}) refused: {string.Join(" ", errors)}");
            }

            var target = Path.Combine(pluginsDirectory, manifest.Id);
            if (Directory.Exists(target))
            {
                throw new InvalidDataException($"plugin '{manifest.Id}' is already installed in {target}; uninstall it first.");
            }

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
