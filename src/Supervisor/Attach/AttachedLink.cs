using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Attach;

/// <summary>
/// The supervisor's handle on a worker that runs elsewhere: there is no process to signal,
/// so ending it means letting go of the link, and the worker itself keeps running for
/// whoever runs it (a container orchestrator restarts it, not this host).
/// </summary>
internal sealed class AttachedLink(TimeProvider time) : IWorkerProcess
{
    private readonly TaskCompletionSource<WorkerExit> _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _armed;

    public int Pid => 0;

    public bool OwnsProcessGroup => false;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public Task<WorkerExit> Exited => _released.Task;

    /// <summary>Always empty: the worker's stderr goes wherever whoever runs it sends it.</summary>
    public LineRing StderrTail { get; } = new(1);

    public void CloseStdin()
    {
    }

    /// <summary>Called once the attach is complete: the connection it used is the worker's from now on.</summary>
    public void Arm() => Volatile.Write(ref _armed, 1);

    /// <summary>
    /// Asked before every new connection to the address. Once armed, a new connection means
    /// the last one was lost, and whatever answers now may be another process (a restarted
    /// container) that was never described or configured: the link ends, so the supervisor
    /// attaches again, and the connection is refused.
    /// </summary>
    public bool MayConnect()
    {
        if (Volatile.Read(ref _armed) == 0)
        {
            return true;
        }

        Kill();
        return false;
    }

    public void Kill() => _released.TrySetResult(new WorkerExit(0, time.GetUtcNow()));

    // Nothing of an attached worker is on this machine to measure, so no limit of it is read, and none kills it.
    public LimitBreach? KilledFor => null;

    public void Kill(LimitBreach breach) => Kill();

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }
}
