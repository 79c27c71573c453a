using System.Globalization;

namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// Reads the resident memory of a whole process group from /proc: the worker
/// and every descendant still in its group, so a plugin cannot dodge its limit
/// by allocating in a child.
/// </summary>
internal static class ProcessTreeMemory
{
    private static readonly long s_pageSize = Environment.SystemPageSize;

    /// <summary>The summed RSS in bytes of every process whose group is <paramref name="groupId"/>.</summary>
    public static long ReadGroupRss(int groupId) => ReadAllGroups().GetValueOrDefault(groupId);

    /// <summary>
    /// The summed RSS in bytes of every process group on the machine, from one
    /// pass over /proc that reads each process's stat once (group and RSS both).
    /// </summary>
    public static Dictionary<int, long> ReadAllGroups()
    {
        var groups = new Dictionary<int, long>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir.AsSpan());
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ReadGroupAndRss(pid) is var (group, rss))
            {
                groups[group] = groups.GetValueOrDefault(group) + rss;
            }
        }

        return groups;
    }

    /// <summary>The process group of one process (a worker's pid, for anything in its tree); null if it is gone.</summary>
    public static int? ReadGroup(int pid) => ReadGroupAndRss(pid)?.Group;

    /// <summary>The RSS of one process in bytes; 0 if it is gone.</summary>
    public static long ReadRss(int pid) => ReadGroupAndRss(pid)?.Rss ?? 0;

    private static (int Group, long Rss)? ReadGroupAndRss(int pid)
    {
        // /proc/PID/stat: "pid (comm) state ppid pgrp ... rss ..."; comm may hold spaces
        // and parentheses. After comm, pgrp is the 3rd field and rss (pages) the 22nd.
        var stat = TryRead($"/proc/{pid}/stat");
        if (stat is null)
        {
            return null;
        }

        var afterComm = stat.AsSpan(stat.LastIndexOf(')') + 2);
        Span<Range> parts = stackalloc Range[23];
        var count = afterComm.Split(parts, ' ');
        return count >= 22
            && int.TryParse(afterComm[parts[2]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var group)
            && long.TryParse(afterComm[parts[21]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pages)
            ? (group, pages * s_pageSize)
            : null;
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process ended between listing and reading.
            return null;
        }
    }
}
