using Grpc.Core;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Connection;
using GrpcPlugins.Supervisor.Handshake;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Workers;

/// <summary>
/// A started, connected worker: a process that completed its handshake and
/// answered health and Describe. Stopping it is graceful, bounded and idempotent.
/// </summary>
internal sealed class Worker : IAsyncDisposable
{
    private readonly SocketDirectory? _socketDirectory;
    private readonly TimeProvider _time;
    private readonly Lock _stopLock = new();
    private readonly Action _onStopped;
    private readonly Func<Task>? _removeCgroup;
    private Task? _stopping;

    internal Worker(WorkerSpec spec, IWorkerProcess process, SocketDirectory? socketDirectory, HandshakeLine? handshake, WorkerConnection connection, DescribeResponse description, TimeProvider time, Action onStopped, WorkerCgroup? cgroup = null, Func<Task>? removeCgroup = null, WorkerStartTimes? startTimes = null)
    {
        StartTimes = startTimes;
        Cgroup = cgroup;
        _removeCgroup = removeCgroup;
        Spec = spec;
        Process = process;
        _socketDirectory = socketDirectory;
        Handshake = handshake;
        Connection = connection;
        Description = description;
        _time = time;
        _onStopped = onStopped;
    }

    public WorkerSpec Spec { get; }

    /// <summary>The worker's own memory cgroup, or null when the RSS watchdog alone enforces the limit.</summary>
    public WorkerCgroup? Cgroup { get; }

    /// <summary>The worker's own pids cgroup, or null when the thread watchdog alone enforces its thread limit.</summary>
    public WorkerPidsCgroup? PidsCgroup { get; init; }

    /// <summary>The worker's own cpu cgroup, or null when its CPU time has no limit the kernel holds.</summary>
    public WorkerCpuCgroup? CpuCgroup { get; init; }

    public IWorkerProcess Process { get; }

    /// <summary>The handshake line it printed; null for an attached worker, which prints none.</summary>
    public HandshakeLine? Handshake { get; }

    /// <summary>True for a worker that runs elsewhere and was attached to, not spawned.</summary>
    public bool IsAttached => Spec.AttachAddress is not null;

    /// <summary>The process id; null for an attached worker, which has none here.</summary>
    public int? ProcessId => IsAttached ? null : Process.Pid;

    public WorkerConnection Connection { get; }

    /// <summary>How long each step of its start took, from its spawn (null for a worker built by a test).</summary>
    public WorkerStartTimes? StartTimes { get; }

    /// <summary>What the worker said about itself.</summary>
    public DescribeResponse Description { get; }

    public int Pid => Process.Pid;

    /// <summary>Completes when the process has exited.</summary>
    public Task<WorkerExit> Exited => Process.Exited;

    /// <summary>True once a stop had to kill the process group: the worker did not exit within its grace after Shutdown and its stdin closing.</summary>
    public bool KilledAtStop { get; private set; }

    /// <summary>
    /// Asks the worker to shut down, waits up to the grace period for it to
    /// exit, then kills its process group. Later calls share the first one.
    /// An attached worker is only let go: it is not the host's to end.
    /// </summary>
    public Task StopAsync(string reason)
    {
        lock (_stopLock)
        {
            if (_stopping is null)
            {
                StoppedWhileRunning = !Process.Exited.IsCompleted;
            }

            return _stopping ??= StopCoreAsync(reason);
        }
    }

    /// <summary>
    /// True once the host asked a running worker to stop (a disable, an upgrade, a restart):
    /// a call that breaks after it broke because of the stop. A worker that exited by itself
    /// is stopped after its exit, so this stays false for a crash.
    /// </summary>
    public bool StoppedWhileRunning { get; private set; }

    private async Task StopCoreAsync(string reason)
    {
        var grace = Spec.Limits.ShutdownGrace;
        if (!IsAttached && !Process.Exited.IsCompleted)
        {
            using var graceTimeout = new CancellationTokenSource(grace, _time);
            try
            {
                await Connection.Plugin.ShutdownAsync(
                    new ShutdownRequest { GracePeriodMs = (long)grace.TotalMilliseconds, Reason = reason },
                    cancellationToken: graceTimeout.Token).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // Unreachable or already exiting: the wait and the kill below still bound the stop.
            }

            // stdin closing is the second, transport-free way to ask for an exit.
            Process.CloseStdin();
            try
            {
                await Process.Exited.WaitAsync(grace, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Grace is over; the kill below ends the group.
                KilledAtStop = true;
            }
        }

        await Process.DisposeAsync().ConfigureAwait(false);
        Connection.Dispose();
        _socketDirectory?.Dispose();
        if (_removeCgroup is not null)
        {
            await _removeCgroup().ConfigureAwait(false);
        }

        _onStopped();
    }

    public async ValueTask DisposeAsync() => await StopAsync("disposed").ConfigureAwait(false);
}
