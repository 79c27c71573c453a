using System.IO.Pipelines;
using CliWrap;
using GrpcPlugins.Supervisor.Handshake;
using GrpcPlugins.Supervisor.Limits;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// One spawned worker process: its handshake line, its exit, its output, and
/// the means to end it and everything it started. Knows nothing of gRPC.
/// </summary>
internal sealed class WorkerProcess : IWorkerProcess
{
    private const string NiceProgram = "/usr/bin/nice";

    // How long a dead worker's last output may take to be read before what holds it open is killed.
    private static readonly TimeSpan OutputDrainTime = TimeSpan.FromMilliseconds(250);

    private readonly Pipe _stdin = new();
    private readonly CancellationTokenSource _forceful = new();
    private readonly TaskCompletionSource<string?> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<int, string> _onStdout;
    private readonly Action<int, string> _onStderr;
    private readonly Action<int> _onExited;
    private LimitBreach? _killedFor;
    private readonly Action _killHelpers;
    private readonly TimeProvider _time;
    private CommandTask<CommandResult>? _task;
    private int _disposed;

    private WorkerProcess(TimeProvider time, Action<int, string> onStdout, Action<int, string> onStderr, Action<int> onExited, Action killHelpers)
    {
        _onExited = onExited;
        _killHelpers = killHelpers;
        _time = time;
        _onStdout = onStdout;
        _onStderr = onStderr;
    }

    /// <summary>The worker's pid; also its process group id, since it leads its own group.</summary>
    public int Pid { get; private set; }

    /// <summary>True when the worker leads its own process group (<see cref="OwnProcessGroup"/> found a way).</summary>
    public bool OwnsProcessGroup { get; private set; }

    /// <summary>When the process was spawned.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>Completes with the first stdout line (the handshake), or with null if stdout closed first.</summary>
    public Task<string?> FirstLine => _firstLine.Task;

    /// <summary>Completes when the process has exited and its output is drained.</summary>
    public Task<WorkerExit> Exited { get; private set; } = Task.FromResult(new WorkerExit(-1, DateTimeOffset.MinValue));

    /// <summary>The last stderr lines.</summary>
    public LineRing StderrTail { get; } = new(50);

    /// <summary>Spawns the process. Throws <see cref="WorkerStartException"/> when it cannot be run.</summary>
    /// <param name="spec">What to run.</param>
    /// <param name="environment">Variables set (or, when null, removed) for the worker.</param>
    /// <param name="time">The clock.</param>
    /// <param name="onStdout">Each stdout line after the handshake, with the pid.</param>
    /// <param name="onStderr">Each stderr line, with the pid.</param>
    /// <param name="onExited">Called with the pid once the process is gone.</param>
    /// <param name="cgroupProcsFiles">The cgroups (one a hierarchy) the worker joins before its program starts; none when null or empty.</param>
    /// <param name="nice">Above 0, the worker's niceness from its first instruction, every thread of it included.</param>
    /// <param name="killHelpers">
    /// Kills the processes the worker started outside its process group (<see cref="EscapedHelpers"/>):
    /// called with every kill of the worker, and when the worker is gone but something still holds its output open.
    /// </param>
    public static WorkerProcess Start(WorkerSpec spec, IReadOnlyDictionary<string, string?> environment, TimeProvider time, Action<int, string> onStdout, Action<int, string> onStderr, Action<int>? onExited = null, IReadOnlyList<string>? cgroupProcsFiles = null, int nice = 0, Action? killHelpers = null)
    {
        var process = new WorkerProcess(time, onStdout, onStderr, onExited ?? (_ => { }), killHelpers ?? (() => { }));
        process.Spawn(spec, environment, cgroupProcsFiles ?? [], nice);
        return process;
    }

    private void Spawn(WorkerSpec spec, IReadOnlyDictionary<string, string?> environment, IReadOnlyList<string> cgroupProcsFiles, int nice)
    {
        if (spec.Requires is { } required && !File.Exists(required.Path))
        {
            throw new WorkerStartException(new StartFailure(StartFailureKind.SpawnFailed, $"cannot run '{spec.FileName}': {required.Path} does not exist. {required.Fix}", null, []));
        }

        OwnsProcessGroup = OwnProcessGroup.Prefix.Count > 0;
        string[] program = [.. OwnProcessGroup.Prefix, spec.FileName, .. spec.Arguments];
        if (nice > 0 && File.Exists(NiceProgram))
        {
            // nice execs what follows in the same process: niceness is per thread on Linux, and set
            // before the runtime starts, every thread inherits it; set afterwards, early ones would not.
            program = [NiceProgram, "-n", nice.ToString(System.Globalization.CultureInfo.InvariantCulture), .. program];
        }

        var command = cgroupProcsFiles.Count == 0
            ? Cli.Wrap(program[0]).WithArguments(program[1..])
            // The shell moves itself into the worker's cgroups and then becomes the
            // worker (exec keeps the pid, and so does the group's prefix), so the
            // kernel counts every byte and every thread from the first instruction on.
            : Cli.Wrap("/bin/sh").WithArguments(["-c", JoinCgroupsThenExec(cgroupProcsFiles.Count), .. cgroupProcsFiles, .. program]);

        command = command
            .WithWorkingDirectory(spec.WorkingDirectory)
            .WithEnvironmentVariables(environment)
            .WithValidation(CommandResultValidation.None)
            // The worker exits when its stdin closes: that is how it notices a
            // host that died without a word, even from SIGKILL.
            .WithStandardInputPipe(PipeSource.FromStream(_stdin.Reader.AsStream()))
            .WithStandardOutputPipe(new BoundedLineTarget((line, _) => OnStdoutLine(line)))
            .WithStandardErrorPipe(new BoundedLineTarget((line, cut) =>
            {
                var shown = cut ? line + " …[line cut]" : line;
                StderrTail.Add(shown);
                _onStderr(Pid, shown);
            }));

        try
        {
            _task = command.ExecuteAsync(_forceful.Token);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new WorkerStartException(new StartFailure(
                StartFailureKind.SpawnFailed,
                $"cannot run '{spec.FileName}': {ex.Message}. Check the manifest's command and that the file is executable.",
                null,
                []));
        }

        Pid = _task.ProcessId;
        StartedAt = _time.GetUtcNow();
        Exited = WaitForExitAsync(_task);
        _ = WatchOutputOutlivingAsync(_task);
    }

    /// <summary>
    /// The worker's exit is seen when its output closes, and a helper it started outside its
    /// group holds that open after it died: its crash would be seen only by a failed health
    /// probe, and its stop would wait out the grace period. So the process itself is watched,
    /// and once it is gone, what still holds its output is killed.
    /// </summary>
    private async Task WatchOutputOutlivingAsync(CommandTask<CommandResult> task)
    {
        try
        {
            using var own = System.Diagnostics.Process.GetProcessById(Pid);
            await own.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already, or not to be watched: the output's end is the exit, as without this watch.
        }

        if (await Task.WhenAny(task.Task, Task.Delay(OutputDrainTime, _time)).ConfigureAwait(false) != task.Task)
        {
            _killHelpers();
        }
    }

    private async Task<WorkerExit> WaitForExitAsync(CommandTask<CommandResult> task)
    {
        int code;
        try
        {
            code = (await task.ConfigureAwait(false)).ExitCode;
        }
        catch (OperationCanceledException)
        {
            code = 128 + ProcessSignals.SigKill;
        }

        _firstLine.TrySetResult(null);
        await _stdin.Writer.CompleteAsync().ConfigureAwait(false);
        _onExited(Pid);
        return new WorkerExit(code, _time.GetUtcNow());
    }

    private void OnStdoutLine(string line)
    {
        if (!_firstLine.TrySetResult(line))
        {
            _onStdout(Pid, line);
        }
    }

    /// <summary>Closes the worker's stdin, which asks it to exit.</summary>
    public void CloseStdin() => _stdin.Writer.Complete();


    /// <summary>
    /// The shell script given the procs files as $0, $1… and then the program: it writes its
    /// own pid into each file, shifting past them, and execs what is left.
    /// </summary>
    private static string JoinCgroupsThenExec(int files) =>
        "echo $$ > \"$0\"" + string.Concat(Enumerable.Repeat(" && echo $$ > \"$1\" && shift", files - 1)) + " && exec \"$@\"";

    /// <summary>The limit the host killed the worker for, once it did; the first such kill's.</summary>
    public LimitBreach? KilledFor => Volatile.Read(ref _killedFor);

    /// <summary>
    /// Kills the worker for crossing a limit, and keeps why: a worker killed in the instant its
    /// start hands it to the supervisor has its exit seen by a side that did not kill it.
    /// </summary>
    public void Kill(LimitBreach breach)
    {
        if (!Exited.IsCompleted)
        {
            Interlocked.CompareExchange(ref _killedFor, breach, null);
        }

        Kill();
    }

    /// <summary>Kills the worker's whole process group (or the process alone when it has none).</summary>
    public void Kill()
    {
        if (Pid <= 1 || Exited.IsCompleted && !(OwnsProcessGroup && ProcessSignals.GroupExists(Pid)))
        {
            return;
        }

        if (OwnsProcessGroup)
        {
            // Killed just after its spawn, the worker may not have become its group's leader yet
            // (its prefix has not run): there is no group to signal, only the process, which has no
            // children yet either.
            if (!ProcessSignals.SignalGroup(Pid, ProcessSignals.SigKill))
            {
                ProcessSignals.SignalProcess(Pid, ProcessSignals.SigKill);
            }
        }
        else
        {
            ProcessSignals.SignalProcess(Pid, ProcessSignals.SigKill);
        }

        _killHelpers();
    }

    /// <summary>Kills the group and waits for the exit; stopping twice is harmless.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            await Exited.ConfigureAwait(false);
            return;
        }

        Kill();
        CloseStdin();
        // A grandchild that escaped the group could hold the output pipes open;
        // CliWrap's forceful cancel stops waiting for them after a bound.
        try
        {
            await Exited.WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _forceful.CancelAsync().ConfigureAwait(false);
            await Exited.ConfigureAwait(false);
        }

        _forceful.Dispose();
    }
}
