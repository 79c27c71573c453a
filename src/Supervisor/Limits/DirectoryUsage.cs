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
}
