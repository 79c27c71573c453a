using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using GrpcPlugins.Host.Files;

namespace GrpcPlugins.Host.Bundles;

/// <summary>
/// What a bundle vouches for: the sha256 of every file of the plugin folder.
/// The publisher signs its canonical JSON; the host checks the signature at
/// install and the digests at every load.
/// </summary>
internal sealed record BundleManifest(
    [property: JsonPropertyName("pluginId")] string PluginId,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("files")] SortedDictionary<string, string> Files)
{
    /// <summary>The folder, inside an installed plugin, that holds the bundle's manifest and signature.</summary>
    public const string Directory = ".bundle";
    public const string ManifestFile = "bundle.json";
    public const string SignatureFile = "bundle.sig";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>The digests of every file under <paramref name="folder"/> (the .bundle folder excluded), by relative path with '/'.</summary>
    public static SortedDictionary<string, string> Digest(string folder)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        // Hidden files count too: nothing in the folder escapes the digests.
        foreach (var file in System.IO.Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
            if (relative.StartsWith(Directory + "/", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = RegularFile.OpenRead(file);
            files[relative] = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        return files;
    }

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);

    public static BundleManifest? Parse(byte[] bytes) => JsonSerializer.Deserialize<BundleManifest>(bytes, s_json);
}
