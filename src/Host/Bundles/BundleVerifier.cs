using System.Security.Cryptography;
using GrpcPlugins.Host.Files;

namespace GrpcPlugins.Host.Bundles;

/// <summary>
/// Checks an installed plugin folder against its bundle: the signature by a
/// trusted key, then every file's digest, no file missing and none added.
/// Every problem is reported, each saying what to do.
/// </summary>
internal static class BundleVerifier
{
    // A digest line is under 100 bytes: this is room for 160,000 files. A signature is 200 bytes.
    private const int MaxManifestBytes = 16 << 20;
    private const int MaxSignatureBytes = 64 << 10;

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
            manifestBytes = RegularFile.ReadAllBytes(Path.Combine(directory, BundleManifest.ManifestFile), MaxManifestBytes);
            signature = BundleSignature.Parse(RegularFile.ReadAllBytes(Path.Combine(directory, BundleManifest.SignatureFile), MaxSignatureBytes));
            manifest = BundleManifest.Parse(manifestBytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return [$"bundle: cannot read {BundleManifest.Directory}/: {ex.Message}. Reinstall the plugin from its bundle."];
        }

        if (signature is null || manifest is null)
        {
            return [$"bundle: {BundleManifest.Directory}/ is incomplete. Reinstall the plugin from its bundle."];
        }

        if (trust.Find(signature.KeyId) is not { } key)
        {
            var unreadable = trust.Unreadable.Count == 0 ? string.Empty : $" The trust store has files it could not use, which may hold that key: {string.Join(" ", trust.Unreadable)}";
            return [$"bundle: signed by an unknown key {signature.KeyId[..16]}…; add the publisher's public key to the host's trust store if you trust it.{unreadable}"];
        }

        if (signature.Algorithm != BundleSignature.EcdsaP256Sha256 || !key.VerifyData(manifestBytes, Convert.FromBase64String(signature.Signature), HashAlgorithmName.SHA256))
        {
            return ["bundle: bad signature: the bundle manifest was not signed by the key it names. Reinstall the plugin from its publisher's bundle."];
        }

        SortedDictionary<string, string> actual;
        try
        {
            actual = BundleManifest.Digest(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [$"modified: {ex.Message} Reinstall the plugin."];
        }

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
