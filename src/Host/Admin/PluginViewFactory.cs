using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks.Breaker;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Admin;

/// <summary>Builds admin views from the catalog, the supervisors' read models and the call stats.</summary>
internal sealed class PluginViewFactory(CallStats stats, HookBreakers breakers, PluginLifecycle lifecycle, LifecycleEvents events, Hooks.Tenancy.TenantScopes scopes, KeptBundles kept, FolderReloads folderReloads, UpgradeWatch upgradeWatch, Routes.WebSockets.OpenWebSockets webSockets, IOptions<PluginHostOptions> options, TimeProvider time)
{
    public PluginView Create(PluginEntry entry, bool includeLogs)
    {
        var snapshot = entry.Supervisor?.Snapshot;
        var manifest = entry.Manifest;
        var (failures, lastFailure, lastAt) = stats.Get(entry.Id);
        var state = entry.IsRefused ? "Refused" : snapshot!.State.ToString();
        var breaker = breakers.View(entry.Id);
        var (lifecycleState, lifecycleReason) = entry.IsRefused ? (LifecycleState.Refused, string.Join(" ", entry.Refusal)) : lifecycle.StateOf(entry.Id);
        return new PluginView(
            entry.Id,
            manifest?.Name ?? entry.Id,
            manifest?.Version ?? string.Empty,
            manifest?.Description ?? string.Empty,
            lifecycleState is LifecycleState.Active or LifecycleState.PendingConfig,
            ToSnakeCase(lifecycleState),
            lifecycleReason,
            state,
            HealthOf(entry, snapshot, breaker),
            snapshot?.Pid,
            snapshot?.ReadySince is { } since ? Math.Round((time.GetUtcNow() - since).TotalSeconds, 1) : null,
            StartOf(entry.Supervisor),
            snapshot?.Restarts ?? 0,
            snapshot?.RestartsInWindow ?? 0,
            snapshot?.MemoryBytes ?? 0,
            snapshot?.MemoryLimitBytes ?? 0,
            manifest?.AttachAddress is not null ? "none: attached, limited where it runs" : snapshot?.MemoryCgroup is { } cgroup ? $"cgroup {cgroup}" : "rss-watchdog",
            PluginDataDirectory.PathFor(options.Value, entry.Id),
            snapshot?.DataBytes ?? 0,
            snapshot?.DataLimitBytes ?? 0,
            entry.LimitsSetByHost,
            snapshot?.LastExit?.ToString(),
            snapshot?.LastError,
            failures,
            lastFailure is null ? null : $"{lastAt:O} {lastFailure.Kind}: {lastFailure.Detail}",
            new HookBreakerStatus(breaker.State.ToString().ToLowerInvariant(), breaker.ConsecutiveTimeouts, breaker.OpenUntil, breaker.TimesOpened),
            entry.Supervisor is { } supervisor ? new CallLoadView(supervisor.InFlight, supervisor.MaxConcurrentCalls, supervisor.AtCallLimit, supervisor.CallsRefused) : null,
            manifest?.Hooks.Select(h => h.Point).ToList() ?? [],
            scopes.Describe(entry.Id),
            manifest?.Routes.Select(r => $"{r.Method} {r.Path}").ToList() ?? [],
            manifest is null ? [] : manifest.AllowAnonymousEndpoints ? ["*"] : [.. manifest.Routes.Where(r => r.Anonymous).Select(r => $"{r.Method} {r.Path}")],
            entry.Refusal,
            snapshot?.StderrLinesDropped ?? 0,
            includeLogs ? entry.Supervisor?.RecentStderr ?? [] : null,
            includeLogs ? events.Recent(entry.Id) : null)
        {
            AttachedAt = manifest?.AttachAddress?.ToString(),
            StdoutLinesDropped = snapshot?.StdoutLinesDropped ?? 0,
            Threads = manifest?.AttachAddress is null && snapshot is not null ? new ThreadsView(snapshot.Threads, snapshot.ThreadLimit, snapshot.PidsCgroup is { } pids ? $"cgroup {pids}" : "watchdog") : null,
            Cpu = manifest?.AttachAddress is null && snapshot is not null ? CpuOf(snapshot) : null,
            Helpers = manifest?.AttachAddress is null ? snapshot?.Helpers : null,
            RollbackTo = entry.IsRefused ? null : kept.PreviousOf(entry.Id, entry.Folder)?.Version,
            ReloadOnChangeIgnores = folderReloads.IgnoredIn(entry.Id),
            UpgradeWatch = upgradeWatch.WatchOf(entry.Id),
            WebSockets = WebSocketsOf(entry),
        };
    }

    private CpuView CpuOf(WorkerSnapshot snapshot) => new(
        snapshot.CpuLimit,
        Math.Round(snapshot.CpuUsed.TotalSeconds, 2),
        Math.Round(snapshot.CpuThrottled.TotalSeconds, 3),
        snapshot.CpuLimit <= 0 ? "none"
            : snapshot.CpuCgroup is { } cgroup ? $"cgroup {cgroup}"
            : options.Value.CpuCgroupDirectory is { Length: > 0 } ? "cgroup, from its start"
            : "not enforced: the host has no PluginHost:CpuCgroupDirectory");

    private WebSocketsView? WebSocketsOf(PluginEntry entry)
    {
        var (open, opened, compressed, refused) = webSockets.Of(entry.Id);
        return entry.Supervisor?.ReadyWorker is { Description.ServesWebsockets: true } || open > 0
            ? new WebSocketsView(open, entry.Manifest?.Limits.MaxWebSockets ?? options.Value.MaxWebSocketsPerPlugin, opened, compressed, refused)
            : null;
    }

    private static WorkerStartView? StartOf(PluginSupervisor? supervisor)
    {
        if (supervisor?.ReadyWorker is not { StartTimes: { } times } worker || supervisor.Snapshot.ReadySince is not { } readySince)
        {
            return null;
        }

        static double Ms(TimeSpan span) => Math.Round(span.TotalMilliseconds, 1);
        return new WorkerStartView(Ms(times.Handshake), Ms(times.Healthy), Ms(times.Described), Ms(readySince - worker.Process.StartedAt));
    }

    private static string ToSnakeCase(LifecycleState state) => state switch
    {
        LifecycleState.PendingConfig => "pending_config",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Healthy when Ready; Degraded while starting, restarting or unhealthy, or Ready with its hook
    /// calls paused or at its limit of calls in flight; Unhealthy when crash-looping, halted or refused.
    /// </summary>
    public static string HealthOf(PluginEntry entry, WorkerSnapshot? snapshot, HookBreakerView breaker) => entry.IsRefused ? "Unhealthy" : snapshot!.State switch
    {
        WorkerState.Ready when breaker.State != HookBreakerState.Closed || entry.Supervisor!.AtCallLimit => "Degraded",
        WorkerState.Ready => "Healthy",
        WorkerState.Stopped or WorkerState.Exited => "Disabled",
        WorkerState.CrashLooping or WorkerState.Halted => "Unhealthy",
        _ => "Degraded",
    };
}
