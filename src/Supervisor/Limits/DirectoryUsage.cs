using System.IO.Enumeration;

namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// What a plugin's data directory holds: the apparent size of every file in its
/// tree, as <c>du --apparent-size</c> counts it. Links are not followed (a link to
/// the host's disk is not the plugin's data), and entries that vanish or cannot
/// be read during the walk are skipped, since the plugin writes while it is read.
/// </summary>
internal static class DirectoryUsage
{
    private static readonly EnumerationOptions s_walk = new()
    {
        RecurseSubdirectories = true,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.ReparsePoint,
        ReturnSpecialDirectories = false,
    };

    /// <summary>The bytes held under <paramref name="directory"/>; 0 when it does not exist.</summary>
    public static long Measure(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var files = new FileSystemEnumerable<long>(
            directory,
            static (ref FileSystemEntry entry) => entry.Length,
            s_walk)
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) => !entry.IsDirectory,
        };

        long total = 0;
        try
        {
            foreach (var length in files)
            {
                total += length;
            }
        }
        catch (DirectoryNotFoundException)
        {
            // The directory itself went (an uninstall) while it was walked: nothing is held.
            return 0;
        }

        return total;
    }

    /// <summary>
    /// What each entry at the top of <paramref name="directory"/> holds (a folder with
    /// everything in it), largest first: where an admin looks before emptying it.
    /// </summary>
    public static IReadOnlyList<(string Name, long Bytes)> ByEntry(string directory)
    {
        var info = new DirectoryInfo(directory);
        if (!info.Exists)
        {
            return [];
        }

        var entries = new List<(string Name, long Bytes)>();
        foreach (var entry in info.EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0 }))
        {
            var bytes = entry switch
            {
                DirectoryInfo { LinkTarget: null } folder => Measure(folder.FullName),
                FileInfo { LinkTarget: null } file => file.Length,
                _ => 0, // a link holds nothing of the plugin's
            };
            entries.Add((entry is DirectoryInfo { LinkTarget: null } ? entry.Name + "/" : entry.Name, bytes));
        }

        entries.Sort((a, b) => b.Bytes.CompareTo(a.Bytes));
        return entries;
    }
}
