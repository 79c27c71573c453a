namespace GrpcPlugins.Host.Hooks.Breaker;

/// <summary>When a plugin's hook calls are paused, and for how long.</summary>
/// <param name="Timeouts">Hook calls in a row that miss their deadline before the pause; 0 never pauses.</param>
/// <param name="Pause">How long calls are skipped before one trial call goes through.</param>
internal sealed record HookBreakerSettings(int Timeouts, TimeSpan Pause)
{
    public bool Enabled => Timeouts > 0;
}
