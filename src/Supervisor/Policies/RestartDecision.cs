namespace GrpcPlugins.Supervisor.Policies;

/// <summary>What the supervisor does after a worker ended.</summary>
/// <param name="Restart">True to start it again after <paramref name="Delay"/>.</param>
/// <param name="Delay">The backoff before the next start.</param>
/// <param name="CrashLooping">True when the breaker tripped: no more starts until an admin re-enables the plugin.</param>
/// <param name="RestartsInWindow">How many restarts fell inside the intensity window, this one included.</param>
internal sealed record RestartDecision(bool Restart, TimeSpan Delay, bool CrashLooping, int RestartsInWindow);
