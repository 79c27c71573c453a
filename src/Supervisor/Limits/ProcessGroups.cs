using System.Globalization;

namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// Reads what a whole process group uses from /proc: the worker and every descendant still in
/// its group, so a plugin cannot dodge its limits by allocating, or starting threads, in a child.
/// </summary>
internal static class ProcessGroups
{
    private static readonly long s_pageSize = Environment.SystemPageSize;

    /// <summary>The summed RSS in bytes of every process whose group is <paramref name="groupId"/>.</summary>
    public static long ReadGroupRss(int groupId) => ReadAllGroups().GetValueOrDefault(groupId).RssBytes;

    /// <summary>
    /// What every process group on the machine uses, from one pass over /proc that reads each
    /// process's stat once (its group, threads and RSS together).
    /// </summary>
    public static Dictionary<int, GroupUsage> ReadAllGroups()
    {
        var groups = new Dictionary<int, GroupUsage>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir.AsSpan());
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ReadStat(pid) is var (group, usage))
            {
                var sum = groups.GetValueOrDefault(group);
                groups[group] = new GroupUsage(sum.RssBytes + usage.RssBytes, sum.Threads + usage.Threads);
            }
        }

        return groups;
    }

    /// <summary>The process group of one process (a worker's pid, for anything in its tree); null if it is gone.</summary>
    public static int? ReadGroup(int pid) => ReadStat(pid)?.Group;

    /// <summary>The RSS of one process in bytes; 0 if it is gone.</summary>
    public static long ReadRss(int pid) => ReadStat(pid)?.Usage.RssBytes ?? 0;

    /// <summary>What one process uses; nothing if it is gone.</summary>
    public static GroupUsage ReadUsage(int pid) => ReadStat(pid)?.Usage ?? default;

    private static (int Group, GroupUsage Usage)? ReadStat(int pid)
    {
        // /proc/PID/stat: "pid (comm) state ppid pgrp ... num_threads ... rss ..."; comm may hold
        // spaces and parentheses. After comm, pgrp is the 3rd field, num_threads the 18th and
        // rss (pages) the 22nd.
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
            && int.TryParse(afterComm[parts[17]], NumberStyles.None, CultureInfo.InvariantCulture, out var threads)
            && long.TryParse(afterComm[parts[21]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pages)
            ? (group, new GroupUsage(pages * s_pageSize, threads))
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
