namespace GrpcPlugins.Supervisor.Limits;

/// <summary>What one line of /proc/PID/stat says of a process, as far as the limits read it.</summary>
/// <param name="StartTicks">When it started, in clock ticks since boot.</param>
/// <param name="Layout">Where its code and its stack begin: a child keeps its parent's until its exec (0 when the kernel does not show them).</param>
/// <param name="CpuTicks">The CPU time it used, user and system, with that of the children it reaped, in clock ticks.</param>
/// <param name="Helper">Counted in <paramref name="Group"/>, a worker's, though it left it: a helper found by the worker's token.</param>
internal readonly record struct ProcessStat(int Pid, int ParentPid, int Group, int Threads, long RssBytes, long StartTicks, (ulong Code, ulong Stack) Layout, long CpuTicks = 0, bool Helper = false);
