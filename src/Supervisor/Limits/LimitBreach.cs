namespace GrpcPlugins.Supervisor.Limits;

/// <summary>Which of a worker's limits its process group crossed.</summary>
internal enum LimitKind
{
    /// <summary>Its resident memory, as the host reads it (the kernel's own kills are its cgroup's to report).</summary>
    Memory,

    /// <summary>Its threads, counted over its whole process group.</summary>
    Threads,
}

/// <summary>
/// Why the host killed a worker at a limit, kept on the process it killed (see
/// <see cref="Processes.WorkerProcess.Kill(LimitBreach)"/>): whoever sees the exit first (the start, the
/// supervisor's monitor, the watchdog that killed it) reports this cause, not the SIGKILL it led to.
/// </summary>
/// <param name="Limit">The limit crossed.</param>
/// <param name="Message">What was measured against what limit, and how to fix it.</param>
internal sealed record LimitBreach(LimitKind Limit, string Message);
