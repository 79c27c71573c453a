namespace GrpcPlugins.Host.Hooks.Breaker;

/// <summary>Whether a plugin's hook calls go through.</summary>
internal enum HookBreakerState
{
    /// <summary>Calls go through.</summary>
    Closed,

    /// <summary>Calls are skipped until the pause ends.</summary>
    Open,

    /// <summary>The pause ended: one trial call is on its way, the others are skipped until it answers.</summary>
    Trial,
}

/// <summary>A plugin's breaker as the admin API and health checks show it.</summary>
/// <param name="State">Closed, open, or one trial call out.</param>
/// <param name="ConsecutiveTimeouts">Calls in a row that missed their deadline, on the current worker.</param>
/// <param name="OpenUntil">When the pause ends (open) or ended (trial); null when closed.</param>
/// <param name="TimesOpened">How often calls were paused since the host started.</param>
internal sealed record HookBreakerView(HookBreakerState State, int ConsecutiveTimeouts, DateTimeOffset? OpenUntil, long TimesOpened);
