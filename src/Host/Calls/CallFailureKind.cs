namespace GrpcPlugins.Host.Calls;

/// <summary>Why a call to a plugin (hook or route) failed. Each maps to one HTTP status.</summary>
public enum CallFailureKind
{
    /// <summary>No Ready worker: starting, restarting, crash-looping or disabled. 503 with Retry-After.</summary>
    Unavailable,

    /// <summary>The plugin missed the call's deadline. 504.</summary>
    TimedOut,

    /// <summary>The plugin answered with an error. 502.</summary>
    Errored,

    /// <summary>The worker died or the connection broke during the call. 502.</summary>
    Crashed,

    /// <summary>
    /// Not called: the plugin missed its deadline on several hook calls in a row, so the host
    /// skips its hook calls for a while, then tries one (PluginHost:HookBreakerTimeouts). 503 with Retry-After.
    /// </summary>
    CircuitOpen,

    /// <summary>
    /// Not called: the plugin already had its limit of calls in flight (its manifest's
    /// limits.maxConcurrentCalls, or PluginHost:MaxConcurrentCallsPerPlugin). 503 with Retry-After.
    /// </summary>
    Busy,
}
