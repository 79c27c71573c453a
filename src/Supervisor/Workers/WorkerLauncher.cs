using System.Security.Cryptography;
using Grpc.Core;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Connection;
using GrpcPlugins.Supervisor.Handshake;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Supervisor.Workers;

/// <summary>
/// Starts one worker: spawn, then the first of handshake / early exit / start
/// timeout, then connect, health and Describe. Each failure is its own
/// <see cref="StartFailureKind"/> with its evidence, and leaves nothing behind.
/// </summary>
internal sealed partial class WorkerLauncher(LaunchSettings settings, TokenRegistry tokens, WorkerLedger? ledger, ILoggerFactory loggerFactory, TimeProvider time)
{
    private static readonly TimeSpan s_probeInterval = TimeSpan.FromMilliseconds(5);

    public LaunchSettings Settings { get; } = settings;

    /// <summary>Starts a worker for <paramref name="spec"/>; <paramref name="token"/> is the per-spawn secret.</summary>
    public async Task<Worker> LaunchAsync(WorkerSpec spec, string token, WorkerOutput output, CancellationToken cancellationToken)
    {
        if (spec.AttachAddress is { } address)
        {
            return await AttachAsync(spec, address, cancellationToken).ConfigureAwait(false);
        }

        var logger = loggerFactory.CreateLogger("GrpcPlugins.Supervisor.WorkerLauncher");
        var socketDirectory = SocketDirectory.Create(Settings.RuntimeDirectory, spec.PluginId);
        WorkerProcess? process = null;
        WorkerConnection? connection = null;
        WorkerCgroup? cgroup = null;
        WorkerPidsCgroup? pids = null;
        WorkerCpuCgroup? cpu = null;
        StartLimitWatch? limits = null;
        IDisposable? helpersCounted = null;
        tokens.Add(token, spec.PluginId);
        try
        {
            cgroup = CreateCgroup(spec);
            pids = CreatePidsCgroup(spec);
            cpu = Settings.CpuCgroup is { } cpuParent && spec.Limits.Cpus > 0
                ? OwnCgroup(spec, "cpu", name => WorkerCpuCgroup.Create(cpuParent, name, spec.Limits.Cpus))
                : null;
            var environment = BuildEnvironment(spec, socketDirectory.Path, token);
            RuntimeLeftovers? leftovers = null;
            process = WorkerProcess.Start(spec, environment, time, output.OnStdout, output.OnStderr, pid => Exited(pid, leftovers), [.. new[] { cgroup?.ProcsFile, pids?.ProcsFile, cpu?.ProcsFile }.OfType<string>()], Settings.Nice, () => KillHelpers(process?.Pid ?? 0));
            // Read while the process runs or waits to be reaped; one that is already gone had no runtime
            // to leave files, and is no orphan for the ledger to reap.
            leftovers = RuntimeLeftovers.Of(process.Pid, environment);
            if (process.OwnsProcessGroup)
            {
                tokens.BindProcessGroup(token, process.Pid);
                // Before its program runs: a helper it starts is counted against its limits from the first pass that sees it.
                helpersCounted = Settings.StartLimits?.Groups.Helpers.Follow(process.Pid, HandshakeEnvironment.Token, token);
            }

            Log.Spawned(logger, spec.PluginId, process.Pid, spec.FileName);
            if (Settings.StartLimits is { } checks)
            {
                limits = new StartLimitWatch(spec, process, cgroup is not null, pids, checks.Groups, checks.Interval, time);
            }

            if (leftovers is not null)
            {
                ledger?.Add(leftovers, spec.PluginId, token);
            }

            using var startTimeout = new CancellationTokenSource(spec.Limits.StartTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(startTimeout.Token, cancellationToken);

            TimeSpan SinceSpawn() => time.GetUtcNow() - process.StartedAt;
            var handshake = await WaitForHandshakeAsync(spec, process, socketDirectory, linked.Token, startTimeout.Token).ConfigureAwait(false);
            var handshakeAt = SinceSpawn();
            connection = new WorkerConnection(handshake.Address, token);

            // Describe goes out beside the first health probe, so a worker that serves at
            // once answers both over its first connection in one round trip (a JIT worker
            // compiles the two paths on both cores). Its answer counts only if that first
            // probe said SERVING; otherwise Describe is asked again once the worker serves.
            using var earlyCancel = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
            var earlyDescribe = TryDescribeAsync(spec, connection, handshake, logger, earlyCancel.Token);
            var servedAtOnce = await WaitForHealthAsync(spec, process, connection, linked.Token, startTimeout.Token).ConfigureAwait(false);
            var healthyAt = SinceSpawn();
            var description = servedAtOnce ? await WaitAsync(spec, process, earlyDescribe, "an answer to Describe", linked.Token, startTimeout.Token).ConfigureAwait(false) : null;
            if (description is null)
            {
                await earlyCancel.CancelAsync().ConfigureAwait(false);
                description = await DescribeAsync(spec, process, connection, handshake, linked.Token, startTimeout.Token).ConfigureAwait(false);
            }

            var times = new WorkerStartTimes(handshakeAt, healthyAt, SinceSpawn());

            var worker = new Worker(spec, process, socketDirectory, handshake, connection, description, time, () => tokens.Remove(token), cgroup, () => RemoveCgroupsAsync(cgroup, pids, cpu, logger), times) { PidsCgroup = pids, CpuCgroup = cpu };
            Log.Ready(logger, spec.PluginId, process.Pid, times.Described.TotalMilliseconds, times.Handshake.TotalMilliseconds, times.Healthy.TotalMilliseconds);
            return worker;
        }
        catch (WorkerStartException ex) when (process?.KilledFor is { } breach)
        {
            await CleanUpAsync().ConfigureAwait(false);
            throw new WorkerStartException(ex.Failure with { Kind = breach.Limit == LimitKind.Memory ? StartFailureKind.MemoryLimit : StartFailureKind.ThreadLimit, Message = breach.Message });
        }
        catch (WorkerStartException ex) when (pids?.Breach($"plugin '{spec.PluginId}' while it started") is { } refused)
        {
            // The runtime or the plugin failed on the thread or fork the kernel refused: that is the cause.
            await CleanUpAsync().ConfigureAwait(false);
            throw new WorkerStartException(ex.Failure with { Kind = StartFailureKind.ThreadLimit, Message = $"{refused.Message} ({ex.Failure.Message})" });
        }
        catch (WorkerStartException ex) when (cgroup is { OomKills: > 0 })
        {
            await CleanUpAsync().ConfigureAwait(false);
            throw new WorkerStartException(ex.Failure with
            {
                Kind = StartFailureKind.MemoryLimit,
                Message = $"memory limit exceeded: the kernel killed plugin '{spec.PluginId}' at its cgroup limit of {cgroup.LimitBytes / (1024 * 1024)} MiB while it started ({ex.Failure.Message}). Raise limits.memoryMiB in its manifest, or fix its memory use.",
            });
        }
        catch
        {
            await CleanUpAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            // Ready or failed, the start's watch ends here: the supervisor's watchdogs, or nobody, take over.
            if (limits is not null)
            {
                await limits.DisposeAsync().ConfigureAwait(false);
            }
        }

        void KillHelpers(int pid)
        {
            // The kernel keeps every descendant in the worker's cgroups, whatever it did to its group and environment.
            cgroup?.KillMembers();
            pids?.KillMembers();
            if (EscapedHelpers.Kill(HandshakeEnvironment.Token, token) is { Count: > 0 } helpers)
            {
                Log.HelpersKilled(logger, spec.PluginId, pid, string.Join(", ", helpers));
            }
        }

        void Exited(int pid, RuntimeLeftovers? leftovers)
        {
            // Those that did not hold its output open are found once it is gone.
            KillHelpers(pid);
            helpersCounted?.Dispose();
            ledger?.Remove(pid);
            if (leftovers?.Remove() is { } error)
            {
                Log.LeftoversNotRemoved(logger, spec.PluginId, pid, error);
            }
        }

        async Task CleanUpAsync()
        {
            tokens.Remove(token);
            helpersCounted?.Dispose();
            connection?.Dispose();
            if (process is not null)
            {
                await process.DisposeAsync().ConfigureAwait(false);
            }

            socketDirectory.Dispose();
            await RemoveCgroupsAsync(cgroup, pids, cpu, logger).ConfigureAwait(false);
        }
    }

    /// <summary>The worker's own memory cgroup, when the host has a delegated one and the plugin a limit.</summary>
    private WorkerCgroup? CreateCgroup(WorkerSpec spec) =>
        Settings.MemoryCgroup is { } parent && spec.Limits.MemoryLimitBytes > 0
            ? OwnCgroup(spec, "memory", name => parent.Create(name, spec.Limits.MemoryLimitBytes))
            : null;

    /// <summary>
    /// The worker's own pids cgroup, when the host has a delegated one and the plugin a thread
    /// limit: the kernel then refuses its threads and forks past it, however fast they come.
    /// </summary>
    private WorkerPidsCgroup? CreatePidsCgroup(WorkerSpec spec) =>
        Settings.PidsCgroup is { } parent && spec.Limits.MaxThreads > 0
            ? OwnCgroup(spec, "pids", name => WorkerPidsCgroup.Create(parent, name, spec.Limits.MaxThreads))
            : null;

    /// <summary>A cgroup of the worker's own, named for its plugin and its host; a failure to make one is a failed start that says why.</summary>
    private T OwnCgroup<T>(WorkerSpec spec, string controller, Func<string, T> create)
    {
        try
        {
            return create(WorkerCgroup.NameFor(spec.PluginId, Settings.HostTag));
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw new WorkerStartException(new StartFailure(StartFailureKind.SpawnFailed, $"plugin '{spec.PluginId}' could not get its {controller} cgroup: {ex.Message}", null, []));
        }
    }

    private async Task RemoveCgroupsAsync(WorkerCgroup? cgroup, WorkerPidsCgroup? pids, WorkerCpuCgroup? cpu, ILogger logger)
    {
        // One removal for every controller's cgroup: each goes once its processes are gone.
        foreach (var path in new[] { cgroup?.Path, pids?.Path, cpu?.Path }.OfType<string>())
        {
            if (await WorkerCgroup.RemoveAsync(path, time).ConfigureAwait(false) is { } error)
            {
                Log.CgroupNotRemoved(logger, path, error);
            }
        }
    }

    /// <summary>
    /// What an APM agent or a deployment injects into the host's own runtime: assemblies loaded
    /// before Main, extra dependencies and a native profiler would be loaded into every .NET
    /// worker too, beside the plugin's own dependencies (the clash isolation exists to prevent);
    /// EventPipe's file output had every worker open and truncate the host's trace file; a
    /// diagnostic port (dotnet-monitor's listen mode) had every worker connect to the host's
    /// monitor and, in its default suspend mode, print "The runtime has been configured to pause
    /// during startup" on stdout, where its handshake belongs, and wait to be resumed. The
    /// runtime reads the diagnostics' variables under COMPlus_ too. A host that wants its
    /// plugins instrumented passes these through PluginHost:WorkerEnvironment or a manifest's
    /// env, which are applied after this.
    /// </summary>
    private static readonly string[] s_hostRuntimeInjections =
    [
        "DOTNET_STARTUP_HOOKS",
        "DOTNET_ADDITIONAL_DEPS",
        "DOTNET_SHARED_STORE",
        "CORECLR_ENABLE_PROFILING",
        "CORECLR_PROFILER",
        "CORECLR_PROFILER_PATH",
        "CORECLR_PROFILER_PATH_64",
        .. new[] { "DiagnosticPorts", "DefaultDiagnosticPortSuspend", "EnableEventPipe", "EventPipeOutputPath", "EventPipeConfig", "EventPipeCircularMB", "EventPipeOutputStreaming", "EventPipeRundown" }
            .SelectMany(name => new[] { "DOTNET_" + name, "COMPlus_" + name }),
    ];

    private Dictionary<string, string?> BuildEnvironment(WorkerSpec spec, string socketDirectory, string token)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            // The host's own listen addresses must not leak into a worker's web server.
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_HTTP_PORTS"] = null,
            ["ASPNETCORE_HTTPS_PORTS"] = null,
            ["DOTNET_URLS"] = null,
        };
        foreach (var name in s_hostRuntimeInjections)
        {
            environment[name] = null;
        }

        if (Settings.WithheldEnvironment is { Count: > 0 } withheld)
        {
            foreach (var name in Environment.GetEnvironmentVariables().Keys.OfType<string>())
            {
                if (withheld.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
                {
                    environment[name] = null;
                }
            }
        }

        foreach (var (key, value) in spec.Environment)
        {
            environment[key] = value;
        }

        environment[HandshakeEnvironment.MagicCookieKey] = HandshakeEnvironment.MagicCookieValue;
        environment[HandshakeEnvironment.ProtocolVersions] = string.Join(',', Settings.ProtocolVersions);
        environment[HandshakeEnvironment.SocketDirectory] = socketDirectory;
        environment[HandshakeEnvironment.HostAddress] = Settings.HostAddress;
        environment[HandshakeEnvironment.Token] = token;
        environment[HandshakeEnvironment.PluginId] = spec.PluginId;
        environment[HandshakeEnvironment.HostPid] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return environment;
    }

    private async Task<HandshakeLine> WaitForHandshakeAsync(WorkerSpec spec, WorkerProcess process, SocketDirectory socketDirectory, CancellationToken token, CancellationToken startTimeout)
    {
        var first = await WaitAsync(spec, process, process.FirstLine, "a handshake line", token, startTimeout).ConfigureAwait(false);
        if (first is null)
        {
            // stdout closed without a line: the process is ending, and its exit follows at once.
            var exit = await process.Exited.ConfigureAwait(false);
            throw Fail(StartFailureKind.ExitedBeforeHandshake, process,
                $"plugin '{spec.PluginId}' exited before its handshake ({exit}). Check its stderr below, and print the handshake line once it serves.", exit.ExitCode);
        }

        var handshake = HandshakeLine.TryParse(first, Settings.ProtocolVersions, out var error);
        if (handshake is null)
        {
            throw Fail(StartFailureKind.InvalidHandshake, process, $"plugin '{spec.PluginId}': {error}", null);
        }

        if (!socketDirectory.Contains(handshake.Address))
        {
            throw Fail(StartFailureKind.InvalidHandshake, process,
                $"plugin '{spec.PluginId}': handshake address '{handshake.Address}' is outside its socket directory '{socketDirectory.Path}'. Create the socket inside PLUGIN_SOCKET_DIR.", null);
        }

        return handshake;
    }

    /// <summary>Probes until SERVING; returns whether the first probe already said so. A start that times out says what the last probe got.</summary>
    private async Task<bool> WaitForHealthAsync(WorkerSpec spec, WorkerProcess process, WorkerConnection connection, CancellationToken token, CancellationToken startTimeout)
    {
        string? lastProblem = null;
        for (var first = true; ; first = false)
        {
            var probe = await WaitAsync(spec, process, connection.ProbeAsync(spec.Limits.StartTimeout, token), "a healthy probe", token, startTimeout, lastProblem).ConfigureAwait(false);
            if (probe.Serving)
            {
                return first;
            }

            lastProblem = probe.Problem;
            await WaitAsync(spec, process, DelayAsync(s_probeInterval, token), "a healthy probe", token, startTimeout, lastProblem).ConfigureAwait(false);
        }
    }

    private async Task<DescribeResponse> DescribeAsync(WorkerSpec spec, WorkerProcess process, WorkerConnection connection, HandshakeLine handshake, CancellationToken token, CancellationToken startTimeout)
    {
        try
        {
            return await WaitAsync(spec, process, CallDescribeAsync(connection, handshake, token), "an answer to Describe", token, startTimeout).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
        {
            throw Fail(StartFailureKind.Unresponsive, process, $"plugin '{spec.PluginId}' failed Describe: {ex.Status.StatusCode}: {ex.Status.Detail}", null);
        }
    }

    private Task<DescribeResponse> CallDescribeAsync(WorkerConnection connection, HandshakeLine handshake, CancellationToken token) =>
        connection.Plugin.DescribeAsync(
            new DescribeRequest { ProtocolVersion = handshake.AppProtocolVersion, HostVersion = Settings.HostVersion },
            cancellationToken: token).ResponseAsync;

    /// <summary>
    /// The early Describe: null when it failed, which is not the start's failure: the
    /// worker is asked again, and that answer decides (its error is the one reported).
    /// A refusal is logged at Debug; our own cancellation is not a failure.
    /// </summary>
    private async Task<DescribeResponse?> TryDescribeAsync(WorkerSpec spec, WorkerConnection connection, HandshakeLine handshake, ILogger logger, CancellationToken token)
    {
        try
        {
            return await CallDescribeAsync(connection, handshake, token).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
        {
            Log.EarlyDescribeRefused(logger, spec.PluginId, ex.StatusCode, ex.Status.Detail);
            return null;
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            return null;
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken token)
    {
        await Task.Delay(delay, time, token).ConfigureAwait(false);
        return true;
    }

    /// <summary>Waits for <paramref name="task"/>, but fails at once when the process exits or the start timeout fires.</summary>
    private static async Task<T> WaitAsync<T>(WorkerSpec spec, WorkerProcess process, Task<T> task, string waitingFor, CancellationToken token, CancellationToken startTimeout, string? lastProblem = null)
    {
        var cancelled = Task.Delay(Timeout.Infinite, token);
        var first = await Task.WhenAny(task, process.Exited, cancelled).ConfigureAwait(false);
        if (first == task && task.IsCompletedSuccessfully)
        {
            return await task.ConfigureAwait(false);
        }

        if (process.Exited.IsCompleted && first != task)
        {
            var exit = await process.Exited.ConfigureAwait(false);
            var kind = waitingFor == "a handshake line" ? StartFailureKind.ExitedBeforeHandshake : StartFailureKind.Unresponsive;
            var message = kind == StartFailureKind.ExitedBeforeHandshake
                ? $"plugin '{spec.PluginId}' exited before its handshake ({exit}). Check its stderr below, and print the handshake line once it serves."
                : $"plugin '{spec.PluginId}' exited ({exit}) while the host waited for {waitingFor}. Check its stderr below.";
            throw Fail(kind, process, message, exit.ExitCode);
        }

        if (startTimeout.IsCancellationRequested)
        {
            var gaveNo = $"plugin '{spec.PluginId}' gave no {waitingFor[(waitingFor.IndexOf(' ', StringComparison.Ordinal) + 1)..]} within its start timeout of {spec.Limits.StartTimeout.TotalSeconds:0.###} s";
            // A probe that was answered, but not with SERVING, tells more than the timeout: it serves, and says no.
            throw Fail(StartFailureKind.StartTimeout, process, lastProblem is null
                ? $"{gaveNo}. Serve sooner or raise limits.startTimeout in its manifest."
                : $"{gaveNo}; the last probe got {lastProblem}. Its gRPC health service (grpc.health.v1.Health, empty service name) must answer SERVING with the token the host sends; raise limits.startTimeout only if it needs longer to get there.", null);
        }

        token.ThrowIfCancellationRequested();
        return await task.ConfigureAwait(false);
    }

    private static WorkerStartException Fail(StartFailureKind kind, WorkerProcess process, string message, int? exitCode) =>
        new(new StartFailure(kind, message, exitCode, process.StderrTail.Snapshot()));

    /// <summary>Creates a random per-spawn token.</summary>
    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
}
