namespace GrpcPlugins.Supervisor.Limits;

/// <summary>What a process group holds: the resident memory and the threads of all its processes (a process is at least one thread).</summary>
/// <param name="RssBytes">The summed resident set size.</param>
/// <param name="Threads">The summed threads, the kernel's tasks: what a plugin that leaks threads or forks without end uses up, for every process of the machine's user.</param>
/// <param name="CpuTicks">The summed CPU time, user and system, of its processes and the children they reaped, in clock ticks (<see cref="ProcessGroups.TicksPerSecond"/> a second).</param>
/// <param name="Helpers">Of its processes, the helpers that left it (a session of their own) and were counted in it by its worker's token.</param>
/// <param name="HelperRssBytes">The helpers' share of <paramref name="RssBytes"/>.</param>
internal readonly record struct GroupUsage(long RssBytes, int Threads, long CpuTicks = 0, int Helpers = 0, long HelperRssBytes = 0)
{
    /// <summary>The CPU time as a span.</summary>
    public TimeSpan Cpu => TimeSpan.FromSeconds((double)CpuTicks / ProcessGroups.TicksPerSecond);

    /// <summary>
    /// Names what was measured for a limit's message: <paramref name="group"/>, with the helpers
    /// counted in it when there are any, since an admin shown only the worker's group would look
    /// for the memory in the worker and not in the daemon it started.
    /// </summary>
    public string Of(string group) => Helpers switch
    {
        0 => group,
        1 => $"{group} and its helper in a session of its own ({HelperRssBytes / (1024 * 1024)} MiB of it)",
        _ => $"{group} and its {Helpers} helpers in sessions of their own ({HelperRssBytes / (1024 * 1024)} MiB of it)",
    };
}
