using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Logs;
using GrpcPlugins.Supervisor.Policies;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>
/// Keeps one plugin's worker running: start, watch (exit, health, memory),
/// and after an end decide by the restart policy: back off and start again,
/// give up (temporary, transient), or trip the crash-loop breaker.
/// One loop task per plugin; every transition is logged once and published.
/// </summary>
internal sealed partial class PluginSupervisor : IAsyncDisposable
{
    private readonly WorkerLauncher _launcher;
    private readonly SupervisionSettings _settings;
    private readonly Func<Worker, CancellationToken, Task>? _onStarted;
    private readonly TimeProvider _time;
    private readonly ProcessGroupSampler _groups;
    private readonly ILogger _logger;
    private readonly WorkerLogForwarder _log;
    private readonly RestartTracker _tracker;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly Lock _stateLock = new();
    private CancellationTokenSource? _stop;
    private Task _loop = Task.CompletedTask;
    private TaskCompletionSource _restartRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Worker? _ready;
    private WorkerSnapshot _snapshot;
    private long _memoryBytes;
    private int _threads;
    private int _helpers;
    private long _cpuThrottledTicks;
    private long _cpuUsedTicks;
    private long _dataBytes;
    private readonly CallLimit _calls;

    public PluginSupervisor(
        WorkerSpec spec,
        SupervisionSettings settings,
        WorkerLauncher launcher,
        ProcessGroupSampler groups,
        Func<Worker, CancellationToken, Task>? onStarted,
        ILoggerFactory loggerFactory,
        TimeProvider time)
    {
        Spec = spec;
        _calls = new CallLimit(spec.Limits.MaxConcurrentCalls);
        _settings = settings;
        _launcher = launcher;
        _groups = groups;
        _onStarted = onStarted;
        _time = time;
        _logger = loggerFactory.CreateLogger<PluginSupervisor>();
        _log = new WorkerLogForwarder(loggerFactory, spec.PluginId, time);
        _tracker = new RestartTracker(settings.Restart, time);
        _snapshot = new WorkerSnapshot(spec.PluginId, WorkerState.Stopped, null, null, 0, 0, null, null, [], 0, spec.Limits.MemoryLimitBytes, 0)
        {
            DataLimitBytes = spec.Limits.Data?.LimitBytes ?? 0,
            ThreadLimit = spec.Limits.MaxThreads,
            CpuLimit = spec.Limits.Cpus,
        };
    }

    public WorkerSpec Spec { get; }

    public string PluginId => Spec.PluginId;

    /// <summary>The current state, read without copying the snapshot (the hot path of every call asks).</summary>
    public WorkerState State => Volatile.Read(ref _snapshot).State;

    /// <summary>The worker that serves calls now, or null while none is Ready.</summary>
    public Worker? ReadyWorker => _ready;

    /// <summary>
    /// The Ready worker for one call, counted while the lease lives, so that an
    /// upgrade can let calls in flight on this worker finish before stopping it.
    /// </summary>
    public CallLease Lease()
    {
        // The place is taken before the worker is read: an upgrade that replaces this
        // worker and then drains must see every caller that could still reach it.
        if (!_calls.TryEnter(out var episodeBegan))
        {
            if (_ready is null)
            {
                return default;
            }

            if (episodeBegan)
            {
                Log.CallLimitReached(_logger, PluginId, _calls.Max);
            }

            return new CallLease(null, null, busy: true);
        }

        if (_ready is { } worker)
        {
            return new CallLease(this, worker);
        }

        Release();
        return default;
    }

    internal void Release()
    {
        if (_calls.Exit(out var refused))
        {
            Log.CallLimitRelieved(_logger, PluginId, _calls.Max, refused);
        }
    }

    /// <summary>Calls holding a lease now.</summary>
    public int InFlight => _calls.InFlight;

    /// <summary>Calls allowed in flight at once (<see cref="WorkerLimits.MaxConcurrentCalls"/>).</summary>
    public int MaxConcurrentCalls => _calls.Max;

    /// <summary>True from a call refused at the limit until a quarter of the places are free again.</summary>
    public bool AtCallLimit => _calls.Saturated;

    /// <summary>Calls refused because the plugin had its limit in flight, since this supervisor was made.</summary>
    public long CallsRefused => _calls.Refused;

    /// <summary>
    /// Waits until no call holds a lease, bounded by <paramref name="limit"/>:
    /// a caller that chose this plugin just before it was replaced still gets
    /// its answer. A quiet period first lets such late callers take their lease.
    /// </summary>
    public async Task DrainAsync(TimeSpan quiet, TimeSpan limit, CancellationToken cancellationToken)
    {
        await Task.Delay(quiet, _time, cancellationToken).ConfigureAwait(false);
        var start = _time.GetTimestamp();
        while (InFlight > 0 && _time.GetElapsedTime(start) < limit)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The current read model.</summary>
    public WorkerSnapshot Snapshot
    {
        get
        {
            lock (_stateLock)
            {
                return _snapshot with
                {
                    MemoryBytes = Interlocked.Read(ref _memoryBytes),
                    StderrLinesDropped = _log.Dropped,
                    StdoutLinesDropped = _log.StdoutDropped,
                    MemoryCgroup = _ready?.Cgroup?.Path,
                    PidsCgroup = _ready?.PidsCgroup?.Path,
                    CpuCgroup = _ready?.CpuCgroup?.Path,
                    CpuThrottled = TimeSpan.FromTicks(Interlocked.Read(ref _cpuThrottledTicks)),
                    CpuUsed = TimeSpan.FromTicks(Interlocked.Read(ref _cpuUsedTicks)),
                    DataBytes = Interlocked.Read(ref _dataBytes),
                    Threads = Volatile.Read(ref _threads),
                    Helpers = Volatile.Read(ref _helpers),
                };
            }
        }
    }

    /// <summary>
    /// The last stderr lines: the serving worker's as they are now, else those of the last
    /// worker that ended. Not part of <see cref="Snapshot"/>, which is read on call paths
    /// and would copy the lines every time; the snapshot's own copy dates from its last change.
    /// </summary>
    public IReadOnlyList<string> RecentStderr
    {
        get
        {
            lock (_stateLock)
            {
                return _ready?.Process.StderrTail.Snapshot() ?? _snapshot.StderrTail;
            }
        }
    }

    /// <summary>Raised after every state transition, with the new snapshot.</summary>
    public event Action<WorkerSnapshot>? StateChanged;

    /// <summary>
    /// Waits until the worker is Ready, has given up (crash-looping or exited),
    /// or <paramref name="limit"/> passed; returns the snapshot at that moment.
    /// A restart in between is not an end: the wait goes on through it.
    /// </summary>
    public async Task<WorkerSnapshot> WhenReadyOrSettledAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var settled = new TaskCompletionSource<WorkerSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(WorkerSnapshot snapshot)
        {
            if (snapshot.State is WorkerState.Ready or WorkerState.CrashLooping or WorkerState.Halted or WorkerState.Exited)
            {
                settled.TrySetResult(snapshot);
            }
        }

        StateChanged += OnChanged;
        try
        {
            // A state reached before the subscription counts too.
            OnChanged(Snapshot);
            try
            {
                return await settled.Task.WaitAsync(limit, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return Snapshot;
            }
        }
        finally
        {
            StateChanged -= OnChanged;
        }
    }

    /// <summary>Starts supervising; after a crash loop, a halt or an exit, forgets the history and starts afresh.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_loop.IsCompleted)
            {
                return;
            }

            _tracker.Reset();
            // A restart asked for as the last run ended is not one this run should honour.
            _restartRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _stop?.Dispose();
            _stop = new CancellationTokenSource();
            var stop = _stop.Token;
            _loop = Task.Run(() => RunAsync(stop), CancellationToken.None);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops the worker gracefully (Shutdown, grace, kill) and stops supervising.</summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_stop is not null)
            {
                await _stop.CancelAsync().ConfigureAwait(false);
            }

            await _loop.ConfigureAwait(false);

            // A loop that already gave up (crash loop, temporary exit) ends here too: disabled is Stopped.
            SetState(WorkerState.Stopped, null);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Asks for a restart of a running worker; not counted against the crash-loop
    /// breaker. False when nothing is supervised (stopped, crash-looping, halted, exited):
    /// then there is nothing to restart, and the request is not kept for later.
    /// </summary>
    public bool RequestRestart()
    {
        if (_loop.IsCompleted)
        {
            return false;
        }

        _restartRequested.TrySetResult();
        return true;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var restarts = _snapshot.Restarts;
        while (!stop.IsCancellationRequested)
        {
            SetState(WorkerState.Starting, pid: null);
            DateTimeOffset? readySince = null;
            // The same instant on the monotonic clock, which the restart arithmetic measures by.
            long? readyAt = null;
            Worker? worker = null;
            EndReason end;
            try
            {
                if (DataOverLimit() is { } over)
                {
                    // Started over its limit (it filled the directory before a host restart,
                    // or the limit was lowered): a worker would only add to it.
                    Halt(over);
                    return;
                }

                worker = await _launcher.LaunchAsync(Spec, WorkerLauncher.NewToken(), new WorkerOutput(_log.OnStdout, _log.OnStderr), stop).ConfigureAwait(false);
                SetState(WorkerState.Starting, worker.ProcessId);

                // The watchdog holds the worker to its memory and threads from the hand-over on: the
                // start's own watch has ended, and the start check's Configure (a plugin loading a model
                // or sizing a pool by its settings) may take as long and as much as its start did.
                using var watch = CancellationTokenSource.CreateLinkedTokenSource(stop);
                var usage = WatchUsageAsync(worker, watch.Token);
                try
                {
                    if (await CheckStartAsync(worker, usage, stop).ConfigureAwait(false) is { } crossed)
                    {
                        end = crossed;
                    }
                    else
                    {
                        (readySince, readyAt) = (_time.GetUtcNow(), _time.GetTimestamp());
                        _ready = worker;
                        SetState(WorkerState.Ready, worker.ProcessId, readySince);
                        end = await MonitorAsync(worker, usage, watch, stop).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await watch.CancelAsync().ConfigureAwait(false);
                    await usage.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                end = new EndReason(EndKind.Stopping, "stopping");
            }
            catch (WorkerStartException ex)
            {
                var kind = ex.Failure.Kind switch
                {
                    StartFailureKind.MemoryLimit => EndKind.MemoryLimit,
                    StartFailureKind.ThreadLimit => EndKind.ThreadLimit,
                    _ => EndKind.StartFailed,
                };
                end = new EndReason(kind, ex.Failure.ToString(), ex.Failure.ExitCode is { } code ? new WorkerExit(code, _time.GetUtcNow()) : null);
            }
            catch (Exception ex)
            {
                // Isolation boundary: one plugin's failure must never end the host.
                end = new EndReason(EndKind.StartFailed, $"start of plugin '{PluginId}' failed: {ex.GetType().Name}: {ex.Message}");
            }

            _ready = null;
            Interlocked.Exchange(ref _memoryBytes, 0);
            Interlocked.Exchange(ref _threads, 0);
            Interlocked.Exchange(ref _helpers, 0);
            Interlocked.Exchange(ref _cpuThrottledTicks, 0);
            Interlocked.Exchange(ref _cpuUsedTicks, 0);
            if (worker is not null)
            {
                end = WithLimitKill(end, worker);
                SetState(WorkerState.Stopping, worker.ProcessId, readySince);
                await worker.StopAsync(end.Message).ConfigureAwait(false);
                if (!worker.IsAttached)
                {
                    // An attached worker has no exit of its own to record: the host only let go of it.
                    end = end with { Exit = end.Exit ?? await worker.Exited.ConfigureAwait(false) };
                }
            }

            if (worker is { KilledAtStop: true })
            {
                Log.KilledAtStop(_logger, PluginId, worker.Pid, worker.Spec.Limits.ShutdownGrace.TotalSeconds);
            }

            if (end.Kind == EndKind.Stopping || stop.IsCancellationRequested)
            {
                RecordStop(end, worker);
                break;
            }

            if (end.Kind == EndKind.RestartRequested)
            {
                Log.RestartRequested(_logger, PluginId);
                continue;
            }

            Log.WorkerEnded(_logger, PluginId, worker?.Pid ?? 0, end.Kind, end.Message);
            RecordEnd(end, worker);
            if (end.Kind == EndKind.DataLimit)
            {
                Halt(end);
                return;
            }

            var decision = _tracker.OnEnded(end.IsAbnormal, readyAt);
            if (decision.CrashLooping)
            {
                var message = $"crash loop: {decision.RestartsInWindow} restarts within {_settings.Restart.Window.TotalSeconds:0} s (limit {_settings.Restart.MaxRestarts}); last: {end.Message.TrimEnd('.')}. Fix the plugin, then enable it again.";
                Log.CrashLooping(_logger, PluginId, message);
                SetState(WorkerState.CrashLooping, null, lastError: message, restartsInWindow: decision.RestartsInWindow);
                return;
            }

            if (!decision.Restart)
            {
                SetState(WorkerState.Exited, null);
                return;
            }

            SetState(WorkerState.BackingOff, null, restartsInWindow: decision.RestartsInWindow);
            Log.BackingOff(_logger, PluginId, decision.Delay.TotalMilliseconds, decision.RestartsInWindow);
            try
            {
                await Task.Delay(decision.Delay, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            restarts++;
            lock (_stateLock)
            {
                _snapshot = _snapshot with { Restarts = restarts };
            }
        }

        SetState(WorkerState.Stopped, null);
    }

    private void Halt(EndReason end)
    {
        Log.Halted(_logger, PluginId, end.Message);
        SetState(WorkerState.Halted, null, lastError: end.Message);
    }

    // A stop is not a crash: the state and error stay as they were, unless the worker had to be
    // killed, which its author needs to see (it may lose what it had not written).
    private void RecordStop(EndReason end, Worker? worker)
    {
        if (worker is null || worker.IsAttached)
        {
            return;
        }

        lock (_stateLock)
        {
            _snapshot = _snapshot with
            {
                LastExit = end.Exit ?? _snapshot.LastExit,
                LastError = worker.KilledAtStop ? $"did not exit within its shutdown grace of {worker.Spec.Limits.ShutdownGrace.TotalSeconds:0.#} s after Shutdown and its stdin closing; killed" : _snapshot.LastError,
            };
        }
    }

    private void RecordEnd(EndReason end, Worker? worker)
    {
        lock (_stateLock)
        {
            _snapshot = _snapshot with
            {
                LastExit = end.Exit ?? _snapshot.LastExit,
                LastError = end.Message,
                StderrTail = worker?.Process.StderrTail.Snapshot() ?? _snapshot.StderrTail,
            };
        }

        SetState(WorkerState.Crashed, worker?.ProcessId);
    }

    private void SetState(WorkerState state, int? pid, DateTimeOffset? readySince = null, string? lastError = null, int? restartsInWindow = null)
    {
        WorkerSnapshot snapshot;
        lock (_stateLock)
        {
            var previous = _snapshot.State;
            _snapshot = _snapshot with
            {
                State = state,
                Pid = pid,
                ReadySince = state is WorkerState.Ready or WorkerState.Unhealthy ? readySince ?? _snapshot.ReadySince : null,
                LastError = lastError ?? _snapshot.LastError,
                RestartsInWindow = restartsInWindow ?? _tracker.RestartsInWindow,
                StderrTail = _ready?.Process.StderrTail.Snapshot() ?? _snapshot.StderrTail,
            };
            snapshot = _snapshot;
            if (previous == state)
            {
                return;
            }
        }

        Log.StateChanged(_logger, PluginId, pid ?? 0, state);
        StateChanged?.Invoke(snapshot);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop?.Dispose();
        _lifecycle.Dispose();
    }
}
