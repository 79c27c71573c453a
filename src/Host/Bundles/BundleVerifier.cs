using System.Security.Cryptography;

namespace GrpcPlugins.Host.Bundles;

/// <summary>
/// Checks an installed plugin folder against its bundle: the signature by a
/// trusted key, then every file's digest, no file missing and none added.
/// Every problem is reported, each saying what to do.
/// </summary>
internal static class BundleVerifier
{
    /// <summary>Null when the folder has no bundle (unsigned); otherwise the problems found (empty: verified).</summary>
    public static IReadOnlyList<string>? Verify(string folder, TrustStore trust, out BundleManifest? manifest)
    {
        manifest = null;
        var directory = Path.Combine(folder, BundleManifest.Directory);
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var errors = new List<string>();
        byte[] manifestBytes;
        BundleSignature? signature;
        try
        {
            manifestBytes = File.ReadAllBytes(Path.Combine(directory, BundleManifest.ManifestFile));
            signature = BundleSignature.Parse(File.ReadAllBytes(Path.Combine(directory, BundleManifest.SignatureFile)));
            manifest = BundleManifest.Parse(manifestBytes);
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException)
        {
            return [$"bundle: cannot read {BundleManifest.Directory}/: {ex.Message}. Reinstall the plugin from its bundle."];
        }

        if (signature is null || manifest is null)
        {
            return [$"bundle: {BundleManifest.Directory}/ is incomplete. Reinstall the plugin from its bundle."];
        }

        if (trust.Find(signature.KeyId) is not { } key)
        {
            return [$"bundle: signed by an unknown key {signature.KeyId[..16]}…; add the publisher's public key to the host's trust store if you trust it."];
        }

        if (signature.Algorithm != BundleSignature.EcdsaP256Sha256 || !key.VerifyData(manifestBytes, Convert.FromBase64String(signature.Signature), HashAlgorithmName.SHA256))
        {
            return ["bundle: bad signature: the bundle manifest was not signed by the key it names. Reinstall the plugin from its publisher's bundle."];
        }

        var actual = BundleManifest.Digest(folder);
        foreach (var (path, digest) in manifest.Files)
        {
            if (!actual.TryGetValue(path, out var found))
            {
                errors.Add($"modified: '{path}' is missing since install. Reinstall the plugin.");
            }
            else if (found != digest)
            {
                errors.Add($"modified: '{path}' does not match its signed digest. Reinstall the plugin.");
            }
        }

        var signedFiles = manifest.Files;
        errors.AddRange(actual.Keys.Where(path => !signedFiles.ContainsKey(path)).Select(path => $"modified: '{path}' was added since install. Remove it or reinstall the plugin."));
        return errors;
    }
}
