using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Bundles;

/// <summary>Everything checked about an extracted bundle: signature, digests, manifest, and that they name the same plugin.</summary>
internal static class BundleInspection
{
    public static (PluginManifest? Manifest, BundleManifest? Signed, List<string> Errors) Inspect(string extracted, TrustStore trust)
    {
        var problems = BundleVerifier.Verify(extracted, trust, out var signed) ?? ["unsigned: the archive has no .bundle/ folder; sign it with 'GrpcPlugins.BundleTool pack'."];
        var manifest = ManifestReader.Read(extracted, out var manifestErrors);
        var errors = problems.Concat(manifestErrors).ToList();
        if (manifest is not null && signed is not null && (manifest.Id != signed.PluginId || manifest.Version != signed.Version))
        {
            errors.Add($"bundle: signed for {signed.PluginId} {signed.Version}, but plugin.json says {manifest.Id} {manifest.Version}.");
        }

        return (manifest, signed, errors);
    }
}
