namespace GrpcPlugins.Host.Hooks.Breaker;

/// <summary>What the breaker said to one call: go (perhaps as the trial), or skip and retry after a while.</summary>
internal readonly record struct HookBreakerPass(bool Allowed, bool Trial, int Worker, TimeSpan RetryAfter)
{
    public static HookBreakerPass Go(int worker, bool trial) => new(true, trial, worker, TimeSpan.Zero);

    public static HookBreakerPass Skip(int worker, TimeSpan retryAfter) => new(false, false, worker, retryAfter);
}

/// <summary>How a call that went through ended, as the breaker counts it.</summary>
internal enum HookCallEnd
{
    /// <summary>The plugin answered, even with an error: it is responsive.</summary>
    Answered,

    /// <summary>The plugin missed the call's deadline.</summary>
    TimedOut,

    /// <summary>Neither: the caller left or the worker went away; says nothing of the plugin's speed.</summary>
    Inconclusive,
}

/// <summary>What a call's end changed, so that each change is logged and counted once.</summary>
internal enum HookBreakerChange
{
    None,
    Opened,
    Reopened,
    Closed,
}
