namespace GrpcPlugins.Supervisor.Policies;

/// <summary>How one plugin's worker is restarted.</summary>
/// <param name="Mode">Which ends lead to a restart.</param>
/// <param name="InitialBackoff">The first delay. Defaults to 200 ms.</param>
/// <param name="MaxBackoff">The delay never grows past this. Defaults to 30 s.</param>
/// <param name="Jitter">Each delay is spread by ± this fraction. Defaults to 0.2.</param>
/// <param name="StablePeriod">Ready this long resets the backoff. Defaults to 60 s.</param>
/// <param name="MaxRestarts">More restarts than this within <paramref name="Window"/> trip the crash-loop breaker. Defaults to 5.</param>
/// <param name="Window">The intensity window. Defaults to 60 s.</param>
internal sealed record RestartPolicy(
    RestartMode Mode,
    TimeSpan InitialBackoff,
    TimeSpan MaxBackoff,
    double Jitter,
    TimeSpan StablePeriod,
    int MaxRestarts,
    TimeSpan Window)
{
    /// <summary>The defaults: permanent, 200 ms doubling to 30 s ±20%, reset after 60 s, 5 restarts in 60 s.</summary>
    public static RestartPolicy Default { get; } = new(
        RestartMode.Permanent,
        TimeSpan.FromMilliseconds(200),
        TimeSpan.FromSeconds(30),
        0.2,
        TimeSpan.FromSeconds(60),
        5,
        TimeSpan.FromSeconds(60));
}
