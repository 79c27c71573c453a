using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Workers;

namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>Watching a Ready worker: its exit, its health probes, its memory, its threads, its data directory, an admin's restart, the stop.</summary>
internal sealed partial class PluginSupervisor
{
    /// <summary>
    /// Runs the host's start check (Configure with the stored settings) while the watchdog holds
    /// the worker to its limits; the watchdog's end when the worker crossed one first, else null
    /// once the check passed (its failure is thrown).
    /// </summary>
    private async Task<EndReason?> CheckStartAsync(Worker worker, Task<EndReason> usage, CancellationToken stop)
    {
        if (_onStarted is null)
        {
            return null;
        }

        using var checking = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var check = _onStarted(worker, checking.Token);
        if (await Task.WhenAny(check, usage).ConfigureAwait(false) == check)
        {
            await check.ConfigureAwait(false);
            return null;
        }

        // Killed at a limit: the check fails on the dead worker, a symptom of the kill, not a cause.
        await checking.CancelAsync().ConfigureAwait(false);
        await check.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        return await usage.ConfigureAwait(false);
    }

    /// <summary>Watches a Ready worker until its run ends; <paramref name="usage"/> is the watchdog started at its hand-over, and <paramref name="watch"/> ends every watcher.</summary>
    private async Task<EndReason> MonitorAsync(Worker worker, Task<EndReason> usage, CancellationTokenSource watch, CancellationToken stop)
    {
        var restart = _restartRequested.Task;
        var health = WatchHealthAsync(worker, watch.Token);
        var data = WatchDataAsync(watch.Token);
        var stopped = Task.Delay(Timeout.Infinite, stop);

        var first = await Task.WhenAny(worker.Exited, health, usage, data, restart, stopped).ConfigureAwait(false);
        await watch.CancelAsync().ConfigureAwait(false);

        EndReason end;
        if (first == worker.Exited)
        {
            var exit = await worker.Exited.ConfigureAwait(false);
            end = worker.IsAttached
                ? new EndReason(EndKind.Unresponsive, $"the connection to the attached worker at {Spec.AttachAddress} was lost; it is attached again (Describe, Configure) before it is called")
                : new EndReason(EndKind.Exited, $"worker pid {worker.Pid} exited: {exit}", exit);
        }
        else if (first == health || first == usage || first == data)
        {
            end = await (Task<EndReason>)first;
            worker.Process.Kill();
        }
        else if (first == restart)
        {
            _restartRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            end = new EndReason(EndKind.RestartRequested, "restart requested by an admin");
        }
        else
        {
            end = new EndReason(EndKind.Stopping, "stopping");
        }

        await Task.WhenAll(health, usage, data).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        return end;
    }

    /// <summary>
    /// An end a limit caused, whatever the symptom (an exit by SIGKILL, a failed Configure):
    /// the host's own kill, which the start's watch may have made in the instant it handed the
    /// worker over, so that the monitor saw only an exit; else the kernel's, when the worker's
    /// pids cgroup refused it a thread or its memory cgroup saw an OOM kill. Read before the
    /// worker stops, since stopping removes its cgroups.
    /// </summary>
    private static EndReason WithLimitKill(EndReason end, Worker worker)
    {
        if (end.Kind is EndKind.Stopping or EndKind.RestartRequested)
        {
            return end;
        }

        if (worker.Process.KilledFor is { } breach)
        {
            return EndReason.Of(breach, end.Exit);
        }

        if (worker.PidsCgroup?.Breach($"worker pid {worker.Pid}") is { } refused)
        {
            // Refused a thread, the runtime may crash before a watchdog reads the refusal.
            return EndReason.Of(refused with { Message = $"{refused.Message} ({end.Message})" }, end.Exit);
        }

        return end.Kind is EndKind.MemoryLimit || worker.Cgroup is not { OomKills: > 0 } cgroup
            ? end
            : new EndReason(EndKind.MemoryLimit, $"memory limit exceeded: the kernel killed worker pid {worker.Pid} at its cgroup limit of {cgroup.LimitBytes / (1024 * 1024)} MiB ({end.Message})", end.Exit);
    }

    private async Task<EndReason> WatchHealthAsync(Worker worker, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            await Task.Delay(SharedBeat.Until(_time, _settings.HealthInterval), _time, cancellationToken).ConfigureAwait(false);
            var probe = await worker.Connection.ProbeAsync(_settings.HealthTimeout, cancellationToken).ConfigureAwait(false);
            if (probe.Serving)
            {
                if (failures > 0)
                {
                    failures = 0;
                    SetState(WorkerState.Ready, worker.ProcessId);
                }

                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            failures++;
            SetState(WorkerState.Unhealthy, worker.ProcessId);
            if (failures >= _settings.HealthFailureThreshold)
            {
                return new EndReason(EndKind.Unresponsive, $"unresponsive: {failures} health probes failed in a row (timeout {_settings.HealthTimeout.TotalSeconds:0.###} s each); the last got {probe.Problem}");
            }
        }
    }

    /// <summary>
    /// Reads the worker's process group, from the pass over /proc every watchdog shares, until it
    /// passes its memory or its thread limit. Threads because every plugin runs as the host's
    /// user, and the kernel bounds one user's threads (RLIMIT_NPROC) and the machine's (pid_max)
    /// together: a plugin leaking threads, or forking without end, would leave the host none to
    /// start. A fork bomb outpaces any pass, so this bounds a leak; a cgroup's pids.max is the hard
    /// bound. One loop for both, so a hundred idle workers wake the host no more often than before.
    /// </summary>
    private async Task<EndReason> WatchUsageAsync(Worker worker, CancellationToken cancellationToken)
    {
        if (worker.IsAttached)
        {
            // Whoever runs it limits it (a container's own limits): nothing of it is on this machine to read.
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken).ConfigureAwait(false);
        }

        var memoryLimit = Spec.Limits.MemoryLimitBytes;
        var threadLimit = Spec.Limits.MaxThreads;
        while (true)
        {
            var usage = worker.Process.OwnsProcessGroup ? _groups.Read(worker.Pid) : ProcessGroups.ReadUsage(worker.Pid);
            if (worker.PidsCgroup is { } pids)
            {
                // The kernel's count: every task it holds the worker to, helpers in sessions of their own too.
                Volatile.Write(ref _threads, pids.Current);
                if (pids.Breach($"worker pid {worker.Pid}") is { } refused)
                {
                    return KillFor(refused);
                }
            }
            else
            {
                Volatile.Write(ref _threads, usage.Threads);
            }

            Volatile.Write(ref _helpers, usage.Helpers);
            if (usage.CpuTicks > 0)
            {
                // Which plugin burns the CPU, with a limit or without: read in the same pass.
                Interlocked.Exchange(ref _cpuUsedTicks, usage.Cpu.Ticks);
            }

            if (worker.CpuCgroup is { } cpu)
            {
                // Not a breach: the kernel throttles, and the admin sees how much.
                Interlocked.Exchange(ref _cpuThrottledTicks, cpu.Throttled.Ticks);
            }

            if (threadLimit > 0 && usage.Threads > threadLimit)
            {
                return KillFor(new LimitBreach(LimitKind.Threads, $"thread limit exceeded: {usage.Threads} threads > {threadLimit} in {usage.Of($"worker pid {worker.Pid}'s process group")}. Fix the plugin's thread or process leak, or raise limits.maxThreads in its manifest if it needs that many."));
            }

            if (worker.Cgroup is { } cgroup)
            {
                // The kernel enforces; RSS would also count shared pages (the runtime's
                // files, charged to whoever read them first), so the cgroup's own
                // figure is what is shown against the limit, and nobody here kills.
                Interlocked.Exchange(ref _memoryBytes, cgroup.UsageBytes);
            }
            else
            {
                Interlocked.Exchange(ref _memoryBytes, usage.RssBytes);
                if (memoryLimit > 0 && usage.RssBytes > memoryLimit)
                {
                    return KillFor(new LimitBreach(LimitKind.Memory, $"memory limit exceeded: {usage.RssBytes / (1024 * 1024)} MiB > {memoryLimit / (1024 * 1024)} MiB in {usage.Of($"worker pid {worker.Pid}'s process group")}. Raise limits.memoryMiB in its manifest, or fix its memory use."));
                }
            }

            await Task.Delay(SharedBeat.Until(_time, _settings.MemoryCheckInterval), _time, cancellationToken).ConfigureAwait(false);
        }

        EndReason KillFor(LimitBreach breach)
        {
            worker.Process.Kill(breach);
            return EndReason.Of(breach);
        }
    }

    /// <summary>
    /// Measures the data directory until it holds more than its limit. Not a quota: a
    /// plugin can write faster than the interval, so this bounds how long it goes on,
    /// and a filesystem quota is the hard bound (architecture.md, "Data directories").
    /// </summary>
    private async Task<EndReason> WatchDataAsync(CancellationToken cancellationToken)
    {
        if (Spec.Limits.Data is null)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken).ConfigureAwait(false);
        }

        var warned = false;
        var pause = _settings.DataCheckInterval;
        var before = Interlocked.Read(ref _dataBytes);
        var measuredAt = _time.GetTimestamp();
        while (true)
        {
            await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
            var began = _time.GetTimestamp();
            if (DataOverLimit() is { } over)
            {
                return over;
            }

            var used = Interlocked.Read(ref _dataBytes);
            pause = DataCheckPace.Next(_settings.DataCheckInterval, _time.GetElapsedTime(began), used, before, _time.GetElapsedTime(measuredAt, began), Spec.Limits.Data!.LimitBytes);
            (before, measuredAt) = (used, began);
            warned = WarnNearDataLimit(warned);
        }
    }

    /// <summary>Measures the data directory now, for the snapshot (after an admin emptied it, say); the bytes it holds.</summary>
    public long MeasureData()
    {
        _ = DataOverLimit();
        return Interlocked.Read(ref _dataBytes);
    }

    /// <summary>Measures the data directory now; the end it calls for when it is over its limit, else null.</summary>
    private EndReason? DataOverLimit()
    {
        if (Spec.Limits.Data is not { } data)
        {
            return null;
        }

        long used;
        try
        {
            used = DirectoryUsage.Measure(data.Directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The walk met what it cannot read past (the directory's own permissions changed):
            // the worker is not stopped for it; the last figure stands, and the admin is told.
            Log.DataNotMeasured(_logger, PluginId, data.Directory, ex);
            return null;
        }

        Interlocked.Exchange(ref _dataBytes, used);
        return data.LimitBytes > 0 && used > data.LimitBytes
            ? new EndReason(EndKind.DataLimit, $"data limit exceeded: {Mib(used)} MiB in {data.Directory} > {Mib(data.LimitBytes)} MiB (limits.dataMiB). A restart would free nothing, so it stays stopped: delete what it need not keep (DELETE /admin/api/plugins/{PluginId}/data empties the directory) or raise its limit (PluginHost:PluginLimits:{PluginId}:DataMiB, read again at its restart), then restart it.")
            : null;
    }

    /// <summary>Warns once when the directory passes 90 % of its limit; again only after it fell under 80 %.</summary>
    private bool WarnNearDataLimit(bool warned)
    {
        var limit = Spec.Limits.Data!.LimitBytes;
        if (limit <= 0)
        {
            return false;
        }

        var used = Interlocked.Read(ref _dataBytes);
        if (!warned && used * 10 > limit * 9)
        {
            Log.DataNearLimit(_logger, PluginId, Spec.Limits.Data.Directory, used / 1048576.0, used * 100.0 / limit, limit / 1048576.0);
            return true;
        }

        return warned && used * 10 > limit * 8;
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
}
