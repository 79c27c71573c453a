using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>Why a worker's run ended.</summary>
internal enum EndKind
{
    /// <summary>The process exited by itself.</summary>
    Exited,

    /// <summary>It never became Ready.</summary>
    StartFailed,

    /// <summary>It stopped answering health probes and was killed.</summary>
    Unresponsive,

    /// <summary>It crossed its memory limit and was killed.</summary>
    MemoryLimit,

    /// <summary>Its process group ran more threads than its limit (a leak, or a fork without end) and was killed.</summary>
    ThreadLimit,

    /// <summary>Its data directory held more than its limit; stopped, and not restarted, since a restart frees nothing.</summary>
    DataLimit,

    /// <summary>An admin asked for a restart; not counted against the breaker.</summary>
    RestartRequested,

    /// <summary>The supervisor is stopping (disable, host shutdown).</summary>
    Stopping,
}

/// <summary>Why a worker's run ended, with the evidence.</summary>
internal sealed record EndReason(EndKind Kind, string Message, WorkerExit? Exit = null)
{
    /// <summary>The end of a worker the host killed at a limit.</summary>
    public static EndReason Of(LimitBreach breach, WorkerExit? exit = null) =>
        new(breach.Limit == LimitKind.Memory ? EndKind.MemoryLimit : EndKind.ThreadLimit, breach.Message, exit);

    /// <summary>Everything but a clean exit the plugin chose, an admin restart or a stop is abnormal.</summary>
    public bool IsAbnormal => Kind switch
    {
        EndKind.Exited => Exit is not { IsClean: true },
        EndKind.RestartRequested or EndKind.Stopping => false,
        _ => true,
    };
}
