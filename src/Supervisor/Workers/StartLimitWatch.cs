using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Workers;

/// <summary>
/// Holds a starting worker's process group to its memory and thread limits until it is Ready,
/// when the supervisor's watchdogs take over. A plugin may load gigabytes (a model, a cache) or
/// leak threads before its handshake, and a start may last minutes: unwatched, it ran over its
/// limits for as long as its start timeout allowed. The memory is the kernel's to enforce when
/// the worker has a memory cgroup; the threads are counted either way, and a pids cgroup's
/// refusals read as the limit crossed.
/// </summary>
internal sealed class StartLimitWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public StartLimitWatch(WorkerSpec spec, WorkerProcess process, bool kernelLimitsMemory, WorkerPidsCgroup? pids, ProcessGroupSampler groups, TimeSpan interval, TimeProvider time)
    {
        _loop = WatchAsync(spec, process, kernelLimitsMemory, pids, groups, interval, time, _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private static async Task WatchAsync(WorkerSpec spec, WorkerProcess process, bool kernelLimitsMemory, WorkerPidsCgroup? pids, ProcessGroupSampler groups, TimeSpan interval, TimeProvider time, CancellationToken stop)
    {
        var memoryLimit = kernelLimitsMemory ? 0 : spec.Limits.MemoryLimitBytes;
        var threadLimit = spec.Limits.MaxThreads;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                // Read on the watchdogs' shared beat, not at the spawn: the pass over /proc there
                // answers every worker starting or watched, where a pass of its own would cost
                // milliseconds of CPU the start shares.
                await Task.Delay(SharedBeat.Until(time, interval), time, stop).ConfigureAwait(false);
                var usage = process.OwnsProcessGroup ? groups.Read(process.Pid) : ProcessGroups.ReadUsage(process.Pid);
                if (memoryLimit > 0 && usage.RssBytes > memoryLimit)
                {
                    // Kept on the process it kills: the start, or the supervisor it was just handed to, sees an exit and reports this.
                    process.Kill(new LimitBreach(LimitKind.Memory, $"memory limit exceeded: {usage.RssBytes / (1024 * 1024)} MiB > {memoryLimit / (1024 * 1024)} MiB in {usage.Of($"plugin '{spec.PluginId}''s process group")} while it started; it was killed. Raise limits.memoryMiB in its manifest, or fix its memory use."));
                    return;
                }

                if (pids?.Breach($"plugin '{spec.PluginId}' while it started; it was killed") is { } refused)
                {
                    process.Kill(refused);
                    return;
                }

                if (threadLimit > 0 && usage.Threads > threadLimit)
                {
                    process.Kill(new LimitBreach(LimitKind.Threads, $"thread limit exceeded: {usage.Threads} threads > {threadLimit} in {usage.Of($"plugin '{spec.PluginId}''s process group")} while it started; it was killed. Fix its thread or process leak, or raise limits.maxThreads in its manifest if it needs that many."));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ready, or the start failed for another reason: the watchdogs or nobody take over.
        }
    }
}
