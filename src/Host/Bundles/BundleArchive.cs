using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace GrpcPlugins.Host.Bundles;

/// <summary>
/// A bundle is one .tar.gz: the plugin folder plus .bundle/bundle.json (the
/// digests) and .bundle/bundle.sig (the publisher's signature). Its address is
/// the sha256 of the archive.
/// </summary>
internal static class BundleArchive
{
    /// <summary>How an extraction in progress is named inside a plugins directory.</summary>
    public const string ExtractionPrefix = ".extracting-";

    private static readonly System.Buffers.SearchValues<char> s_hex = System.Buffers.SearchValues.Create("0123456789abcdef");
    private static readonly EnumerationOptions s_all = new() { RecurseSubdirectories = true, AttributesToSkip = 0 };

    /// <summary>Signs <paramref name="folder"/> with <paramref name="key"/> and writes the bundle; returns its address.</summary>
    public static string Pack(string folder, string pluginId, string version, ECDsa key, string output)
    {
        var manifest = new BundleManifest(pluginId, version, BundleManifest.Digest(folder));
        var manifestBytes = manifest.ToBytes();
        var signature = BundleSignature.Sign(manifestBytes, key);

        var staging = Directory.CreateTempSubdirectory("gp-bundle-").FullName;
        try
        {
            CopyFolder(folder, staging);
            var bundleDirectory = Path.Combine(staging, BundleManifest.Directory);
            Directory.CreateDirectory(bundleDirectory);
            File.WriteAllBytes(Path.Combine(bundleDirectory, BundleManifest.ManifestFile), manifestBytes);
            File.WriteAllBytes(Path.Combine(bundleDirectory, BundleManifest.SignatureFile), signature.ToBytes());
            using (var file = File.Create(output))
            using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
            using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            {
                // TarFile.CreateFromDirectory skips hidden entries, and .bundle/ is one:
                // every file goes in, in a stable order.
                foreach (var path in Directory.EnumerateFiles(staging, "*", s_all).Order(StringComparer.Ordinal))
                {
                    tar.WriteEntry(path, Path.GetRelativePath(staging, path));
                }
            }

            return Address(output);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Whether <paramref name="text"/> has an address's form; anything else must never become a path.</summary>
    public static bool IsAddress(string text) =>
        text.Length == 71 && text.StartsWith("sha256:", StringComparison.Ordinal) && !text.AsSpan(7).ContainsAnyExcept(s_hex);

    /// <summary>The bundle's address: the sha256 of the archive.</summary>
    public static string Address(string bundle)
    {
        using var stream = File.OpenRead(bundle);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Extracts <paramref name="bundle"/> into a new folder under <paramref name="parent"/>
    /// (a temporary directory when null) and returns its path. Extract beside the
    /// final place of the files, so that moving them there is a rename: a plugins
    /// directory is often a volume of its own, and no rename crosses file systems.
    /// The folder's name starts with a dot, which plugin discovery skips. The
    /// archive is checked whole first (<see cref="BundleArchiveCheck"/>): a
    /// <see cref="BundleFormatException"/> says what is wrong with it.
    /// </summary>
    public static string Extract(string bundle, BundleLimits limits, string? parent = null)
    {
        var expanded = BundleArchiveCheck.Check(bundle, limits);
        var where = parent ?? Path.GetTempPath();
        DiskRoom.Ensure(where, expanded, limits.ReserveBytes, "the bundle's files");
        string target;
        if (parent is null)
        {
            target = Directory.CreateTempSubdirectory("gp-extract-").FullName;
        }
        else
        {
            target = Path.Combine(parent, ExtractionPrefix + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(target);
        }

        try
        {
            using var file = File.OpenRead(bundle);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            TarFile.ExtractToDirectory(gzip, target, overwriteFiles: false);
        }
        catch (IOException ex) when (DiskRoom.IsDiskFull(ex))
        {
            // Something else filled the disk since it was measured.
            Directory.Delete(target, recursive: true);
            throw DiskRoom.Full(where, "extracting the bundle's files", ex);
        }
        catch
        {
            Directory.Delete(target, recursive: true);
            throw;
        }

        return target;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", s_all))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.StartsWith(BundleManifest.Directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                continue;
            }

            var destination = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
