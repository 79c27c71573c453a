namespace GrpcPlugins.Host.Admin;

/// <summary>One plugin as the admin API shows it.</summary>
internal sealed record PluginView(
    string Id,
    string Name,
    string Version,
    string Description,
    bool Enabled,
    string Lifecycle,
    string LifecycleReason,
    string State,
    string Health,
    int? Pid,
    double? UptimeSeconds,
    WorkerStartView? Start,
    int Restarts,
    int RestartsInWindow,
    long MemoryBytes,
    long MemoryLimitBytes,
    string MemoryEnforcement,
    string DataDirectory,
    long DataBytes,
    long DataLimitBytes,
    IReadOnlyList<string> LimitsSetByHost,
    string? LastExit,
    string? LastError,
    long CallFailures,
    string? LastCallError,
    HookBreakerStatus HookBreaker,
    CallLoadView? Calls,
    IReadOnlyList<string> Hooks,
    string TenantScope,
    IReadOnlyList<string> Routes,
    IReadOnlyList<string> AnonymousRoutes,
    IReadOnlyList<string> Refusal,
    long StderrLinesDropped,
    IReadOnlyList<string>? RecentLogLines,
    IReadOnlyList<Registry.LifecycleEvent>? RecentEvents)
{
    /// <summary>Where an attached worker serves (the manifest's attach.address); null for a spawned one.</summary>
    public string? AttachedAt { get; init; }

    /// <summary>Stdout lines after a handshake dropped by the log's rate limit, which stdout shares with stderr.</summary>
    public long StdoutLinesDropped { get; init; }

    /// <summary>The version <c>POST …/rollback</c> installs again (the bundle its last upgrade through the admin API replaced); null when none is kept.</summary>
    public string? RollbackTo { get; init; }

    /// <summary>
    /// Under <c>PluginHost:ReloadOnChange</c>, the files in the plugin's folder found to be its own
    /// output (written as it starts, start after start) and no longer a reason to reload it; null when the option is off.
    /// </summary>
    public IReadOnlyList<string>? ReloadOnChangeIgnores { get; init; }

    /// <summary>
    /// What the host watches the version an upgrade switched to for, each until when, rolling it
    /// back by itself if it happens (<c>PluginHost:RollbackOn…Within</c>); empty when nothing.
    /// </summary>
    public IReadOnlyList<Registry.UpgradeWatchItem> UpgradeWatch { get; init; } = [];

    /// <summary>The WebSockets on the plugin's routes; null when it takes none (its worker's Describe did not say it serves them).</summary>
    public WebSocketsView? WebSockets { get; init; }

    /// <summary>The threads of its worker's process group against its limit; null for an attached worker, whose threads are not on this machine.</summary>
    public ThreadsView? Threads { get; init; }

    /// <summary>Its worker's CPU limit and how much the kernel held it back; null for an attached worker, limited where it runs.</summary>
    public CpuView? Cpu { get; init; }

    /// <summary>
    /// Processes its worker started that left its process group (a session of their own), found
    /// by its token and counted in its memory, threads and CPU time, at the last reading; null
    /// for an attached worker.
    /// </summary>
    public int? Helpers { get; init; }
}

/// <summary>
/// The cores' worth of CPU time a worker may use (0: no limit), the CPU time its worker's process
/// group used and how long the kernel held it back at its limit (both since that worker started,
/// at the last reading), and who holds it to that: "cgroup {path}",
/// "cgroup, from its start" (not Ready), "none" (no limit), or "not enforced: …" when it asks for a
/// limit the host has no cpu cgroup to hold.
/// </summary>
internal sealed record CpuView(double Limit, double UsedSeconds, double ThrottledSeconds, string Enforcement);

/// <summary>
/// The threads a worker's whole process group ran at the last reading (0 while none is Ready), how
/// many it may (0: no limit), and who holds it to that: "cgroup {path}" (the kernel refuses past
/// it, and counts every task of the cgroup) or "watchdog" (killed once a reading is over it).
/// </summary>
internal sealed record ThreadsView(int Count, int Limit, string Enforcement);

/// <summary>
/// WebSockets open on a plugin's routes against <c>PluginHost:MaxWebSocketsPerPlugin</c>; <paramref name="Opened"/>
/// and <paramref name="Refused"/> (at the limit) since the host started.
/// </summary>
internal sealed record WebSocketsView(int Open, int Limit, long Opened, long Compressed, long Refused);

/// <summary>
/// Whether the plugin's hook calls go through: <c>closed</c> (they do), <c>open</c> (skipped
/// until <paramref name="OpenUntil"/> after repeated timeouts) or <c>trial</c> (one call decides).
/// </summary>
internal sealed record HookBreakerStatus(string State, int ConsecutiveTimeouts, DateTimeOffset? OpenUntil, long TimesOpened);

/// <summary>
/// The plugin's calls (hooks and routes) in flight against its limit; <paramref name="AtLimit"/> from a
/// refusal until a quarter of the places are free again; <paramref name="Refused"/> since its last
/// install, upgrade or host start.
/// </summary>
internal sealed record CallLoadView(int InFlight, int Limit, bool AtLimit, long Refused);
