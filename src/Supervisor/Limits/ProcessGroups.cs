using System.Globalization;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// Reads what a whole process group uses from /proc: the worker and every descendant still in
/// its group, so a plugin cannot dodge its limits by allocating, or starting threads, in a child.
/// </summary>
internal static class ProcessGroups
{
    // USER_HZ: what /proc counts start times in, 100 on every Linux architecture .NET runs on.
    internal const long TicksPerSecond = 100;
    private static readonly long s_pageSize = Environment.SystemPageSize;

    /// <summary>The summed RSS in bytes of every process whose group is <paramref name="groupId"/>.</summary>
    public static long ReadGroupRss(int groupId) => ReadAllGroups().GetValueOrDefault(groupId).RssBytes;

    /// <summary>
    /// What every process group on the machine uses, from one pass over /proc that reads each
    /// process's stat once (its group, threads and RSS together).
    /// </summary>
    public static Dictionary<int, GroupUsage> ReadAllGroups() => Sum(ReadAll(), NowTicks());

    /// <summary>The same pass, each worker's escaped helpers counted in its group.</summary>
    public static Dictionary<int, GroupUsage> ReadAllGroups(HelperOwners helpers) => Sum(helpers.Attribute(ReadAll()), NowTicks());

    private static List<ProcessStat> ReadAll()
    {
        var processes = new List<ProcessStat>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir.AsSpan());
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ReadStat(pid) is { } stat)
            {
                processes.Add(stat);
            }
        }

        return processes;
    }

    /// <summary>
    /// Sums processes by group. A child still on its parent's pages, between its fork (or vfork)
    /// and its exec, shows its parent's memory again: it has its parent's layout (where code and
    /// stack begin; an exec, even of the same program, draws a new one) and is under two seconds
    /// old. Its threads count, its memory does not, or a plugin that starts helpers would be seen,
    /// for that instant, at up to twice its memory and killed for it. A child that forked and
    /// never exec'd (a pre-forked worker) counts fully from its third second.
    /// </summary>
    internal static Dictionary<int, GroupUsage> Sum(IReadOnlyCollection<ProcessStat> processes, long nowTicks)
    {
        var byPid = new Dictionary<int, ProcessStat>(processes.Count);
        foreach (var process in processes)
        {
            byPid[process.Pid] = process;
        }

        var groups = new Dictionary<int, GroupUsage>();
        foreach (var process in processes)
        {
            var onParentsPages = byPid.TryGetValue(process.ParentPid, out var parent)
                && parent.Group == process.Group
                && process.Layout != default
                && process.Layout == parent.Layout
                && nowTicks - process.StartTicks < 2 * TicksPerSecond;
            var sum = groups.GetValueOrDefault(process.Group);
            var rss = onParentsPages ? 0 : process.RssBytes;
            groups[process.Group] = process.Helper
                ? new GroupUsage(sum.RssBytes + rss, sum.Threads + process.Threads, sum.CpuTicks + process.CpuTicks, sum.Helpers + 1, sum.HelperRssBytes + rss)
                : sum with { RssBytes = sum.RssBytes + rss, Threads = sum.Threads + process.Threads, CpuTicks = sum.CpuTicks + process.CpuTicks };
        }

        return groups;
    }

    /// <summary>The process group of one process (a worker's pid, for anything in its tree); null if it is gone.</summary>
    public static int? ReadGroup(int pid) => ReadStat(pid)?.Group;

    /// <summary>The RSS of one process in bytes; 0 if it is gone.</summary>
    public static long ReadRss(int pid) => ReadStat(pid)?.RssBytes ?? 0;

    /// <summary>What one process uses; nothing if it is gone.</summary>
    public static GroupUsage ReadUsage(int pid) => ReadStat(pid) is { } stat ? new GroupUsage(stat.RssBytes, stat.Threads, stat.CpuTicks) : default;

    private static ProcessStat? ReadStat(int pid)
    {
        // /proc/PID/stat: "pid (comm) state ppid pgrp ... num_threads ... starttime vsize rss rsslim
        // startcode endcode startstack ...". After comm (from 0): ppid is 1, pgrp 2, utime 11,
        // stime 12, cutime 13, cstime 14, num_threads 17, starttime 19, rss (pages) 21, startcode
        // 23 and startstack 25.
        Span<char> line = stackalloc char[ProcStatLine.MaxBytes];
        ReadOnlySpan<char> afterComm = line[..ProcStatLine.Read(pid, line)];
        Span<Range> parts = stackalloc Range[27];
        var count = afterComm.Split(parts, ' ');
        return count >= 26
            && int.TryParse(afterComm[parts[1]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parent)
            && int.TryParse(afterComm[parts[2]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var group)
            && int.TryParse(afterComm[parts[17]], NumberStyles.None, CultureInfo.InvariantCulture, out var threads)
            && long.TryParse(afterComm[parts[19]], NumberStyles.None, CultureInfo.InvariantCulture, out var started)
            && long.TryParse(afterComm[parts[21]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pages)
            && ulong.TryParse(afterComm[parts[23]], NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            && ulong.TryParse(afterComm[parts[25]], NumberStyles.None, CultureInfo.InvariantCulture, out var stack)
            && TryTicks(afterComm, parts, 11, out var cpu)
            ? new ProcessStat(pid, parent, group, threads, pages * s_pageSize, started, (code, stack), cpu)
            : null;
    }

    /// <summary>utime, stime, cutime and cstime summed, from field <paramref name="first"/> on.</summary>
    private static bool TryTicks(ReadOnlySpan<char> fields, ReadOnlySpan<Range> parts, int first, out long ticks)
    {
        ticks = 0;
        for (var i = first; i < first + 4; i++)
        {
            if (!long.TryParse(fields[parts[i]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            ticks += value;
        }

        return true;
    }

    /// <summary>Clock ticks since boot, as process start times count them (USER_HZ, 100 on Linux).</summary>
    private static long NowTicks()
    {
        // "seconds-since-boot idle-seconds\n"; with no /proc to read (a sandbox that hides it), no
        // child is young enough to be on its parent's pages.
        Span<byte> uptime = stackalloc byte[128];
        var read = ProcFile.Read("/proc/uptime\0"u8, uptime);
        var end = read > 0 ? uptime[..read].IndexOf((byte)' ') : -1;
        return end > 0 && double.TryParse(uptime[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? (long)(seconds * TicksPerSecond)
            : long.MaxValue;
    }
}
