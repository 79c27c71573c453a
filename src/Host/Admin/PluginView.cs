namespace GrpcPlugins.Host.Admin;

/// <summary>One plugin as the admin API shows it.</summary>
internal sealed record PluginView(
    string Id,
    string Name,
    string Version,
    string Description,
    bool Enabled,
    string State,
    string Health,
    int? Pid,
    double? UptimeSeconds,
    int Restarts,
    int RestartsInWindow,
    long MemoryBytes,
    long MemoryLimitBytes,
    string? LastExit,
    string? LastError,
    long CallFailures,
    string? LastCallError,
    IReadOnlyList<string> Hooks,
    IReadOnlyList<string> Routes,
    IReadOnlyList<string> AnonymousRoutes,
    IReadOnlyList<string> Refusal,
    long StderrLinesDropped,
    IReadOnlyList<string>? RecentLogLines);
