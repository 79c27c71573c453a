namespace GrpcPlugins.Supervisor.Limits;

/// <summary>What a process group holds: the resident memory and the threads of all its processes (a process is at least one thread).</summary>
/// <param name="RssBytes">The summed resident set size.</param>
/// <param name="Threads">The summed threads, the kernel's tasks: what a plugin that leaks threads or forks without end uses up, for every process of the machine's user.</param>
/// <param name="CpuTicks">The summed CPU time, user and system, of its processes and the children they reaped, in clock ticks (<see cref="ProcessGroups.TicksPerSecond"/> a second).</param>
internal readonly record struct GroupUsage(long RssBytes, int Threads, long CpuTicks = 0)
{
    /// <summary>The CPU time as a span.</summary>
    public TimeSpan Cpu => TimeSpan.FromSeconds((double)CpuTicks / ProcessGroups.TicksPerSecond);
}
