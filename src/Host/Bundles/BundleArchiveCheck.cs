using System.Formats.Tar;
using System.IO.Compression;

namespace GrpcPlugins.Host.Bundles;

/// <summary>
/// Reads a whole bundle without writing anything, so that one which is not a
/// .tar.gz, is cut short, holds a device or an entry that would land outside
/// its folder, or expands past the limits is refused before extraction, with
/// what is wrong.
/// </summary>
internal static class BundleArchiveCheck
{
    private const string Remedy = "Upload the .tar.gz that `GrpcPlugins.BundleTool pack` writes.";

    /// <summary>Returns the bytes the bundle expands to; throws <see cref="BundleFormatException"/> naming the first problem.</summary>
    public static long Check(string bundle, BundleLimits limits)
    {
        long expanded = 0;
        var entries = 0;
        try
        {
            using var file = File.OpenRead(bundle);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                if (++entries > limits.MaxEntries)
                {
                    throw new BundleFormatException($"the bundle holds more than {limits.MaxEntries} entries (PluginHost:MaxBundleEntries).");
                }

                expanded += entry.Length;
                if (expanded > limits.MaxExpandedBytes)
                {
                    throw new BundleFormatException($"the bundle expands to more than {limits.MaxExpandedBytes} bytes (PluginHost:MaxBundleExpandedBytes).");
                }

                if (Refusal(entry) is { } refusal)
                {
                    throw new BundleFormatException($"the bundle's entry '{entry.Name}' {refusal}. {Remedy}");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
        {
            throw new BundleFormatException($"not a bundle: it could not be read as a .tar.gz ({ex.Message}). {Remedy}", ex);
        }

        if (entries == 0)
        {
            throw new BundleFormatException($"not a bundle: the archive is empty. {Remedy}");
        }

        return expanded;
    }

    private static string? Refusal(TarEntry entry)
    {
        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.Directory
            or TarEntryType.SymbolicLink or TarEntryType.HardLink or TarEntryType.GlobalExtendedAttributes))
        {
            return $"is a {entry.EntryType}; a bundle holds files, folders and links only";
        }

        if (Outside(entry.Name))
        {
            return "would land outside the plugin's folder";
        }

        return entry.EntryType switch
        {
            // A symbolic link is resolved from its own folder, a hard link from the archive's root.
            TarEntryType.SymbolicLink when Outside(Path.Combine(Path.GetDirectoryName(entry.Name) ?? string.Empty, entry.LinkName)) => $"links to '{entry.LinkName}', outside the plugin's folder",
            TarEntryType.HardLink when Outside(entry.LinkName) => $"links to '{entry.LinkName}', outside the plugin's folder",
            _ => null,
        };
    }

    /// <summary>Whether a relative path leaves the folder it is relative to.</summary>
    private static bool Outside(string path)
    {
        if (Path.IsPathRooted(path))
        {
            return true;
        }

        const string root = "/bundle-root/";
        return !(Path.GetFullPath(path, root) + "/").StartsWith(root, StringComparison.Ordinal);
    }
}
