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

    public int Pid => 0;

    public bool OwnsProcessGroup => false;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public Task<WorkerExit> Exited => _released.Task;

    /// <summary>Always empty: the worker's stderr goes wherever whoever runs it sends it.</summary>
    public LineRing StderrTail { get; } = new(1);

    public void CloseStdin()
    {
    }

    public void Kill() => _released.TrySetResult(new WorkerExit(0, time.GetUtcNow()));

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }
}
