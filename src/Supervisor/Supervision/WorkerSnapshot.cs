using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>
/// The supervisor's read model of one plugin, immutable: what the admin API,
/// health checks and metrics show.
/// </summary>
internal sealed record WorkerSnapshot(
    string PluginId,
    WorkerState State,
    int? Pid,
    DateTimeOffset? ReadySince,
    int Restarts,
    int RestartsInWindow,
    WorkerExit? LastExit,
    string? LastError,
    IReadOnlyList<string> StderrTail,
    long MemoryBytes,
    long MemoryLimitBytes,
    long StderrLinesDropped)
{
    /// <summary>The Ready worker's own memory cgroup, or null when the RSS watchdog alone enforces the limit.</summary>
    public string? MemoryCgroup { get; init; }

    /// <summary>The Ready worker's own pids cgroup, or null when the thread watchdog alone enforces the limit.</summary>
    public string? PidsCgroup { get; init; }

    /// <summary>What the plugin's data directory held at its last measurement, in bytes.</summary>
    public long DataBytes { get; init; }

    /// <summary>Stdout lines after a handshake that the log's rate limit dropped, as <see cref="StderrLinesDropped"/> counts stderr's.</summary>
    public long StdoutLinesDropped { get; init; }

    /// <summary>The most its data directory may hold, in bytes; 0 when there is no limit.</summary>
    public long DataLimitBytes { get; init; }

    /// <summary>The threads of the Ready worker's whole process group at the last reading.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// The helpers counted in its process group at the last reading: processes it started that
    /// left the group (a session of their own), found by its token; their memory, threads and
    /// CPU time are in the group's.
    /// </summary>
    public int Helpers { get; init; }

    /// <summary>The most threads its process group may run; 0 when there is no limit.</summary>
    public int ThreadLimit { get; init; }

    /// <summary>The cores' worth of CPU time it may use; 0 when there is no limit.</summary>
    public double CpuLimit { get; init; }

    /// <summary>The Ready worker's own cpu cgroup, which holds it to <see cref="CpuLimit"/>; null when nothing does.</summary>
    public string? CpuCgroup { get; init; }

    /// <summary>The CPU time the worker's process group used since it started (user and system, helpers it reaped included), at the last reading.</summary>
    public TimeSpan CpuUsed { get; init; }

    /// <summary>How long the kernel held the Ready worker's threads back at its CPU limit since it started, at the last reading.</summary>
    public TimeSpan CpuThrottled { get; init; }
}
