using GrpcPlugins.Supervisor.Limits;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// What the supervisor watches and ends of a worker: a process it spawned
/// (<see cref="WorkerProcess"/>), or the link to one that runs elsewhere.
/// </summary>
internal interface IWorkerProcess : IAsyncDisposable
{
    /// <summary>The process id, or 0 for a worker the host did not spawn.</summary>
    int Pid { get; }

    /// <summary>True when the worker leads its own process group.</summary>
    bool OwnsProcessGroup { get; }

    /// <summary>When the host spawned it, or attached to it.</summary>
    DateTimeOffset StartedAt { get; }

    /// <summary>Completes when the worker is gone (exited, killed, its link dropped).</summary>
    Task<WorkerExit> Exited { get; }

    /// <summary>The last stderr lines; empty for a worker whose stderr the host does not hold.</summary>
    LineRing StderrTail { get; }

    /// <summary>Closes the worker's stdin, which asks it to exit.</summary>
    void CloseStdin();

    /// <summary>The limit the host killed the worker for, once it did; null otherwise.</summary>
    LimitBreach? KilledFor { get; }

    /// <summary>Ends the worker at once.</summary>
    void Kill();

    /// <summary>Ends the worker at once for crossing a limit, and keeps why in <see cref="KilledFor"/>.</summary>
    void Kill(LimitBreach breach);
}
