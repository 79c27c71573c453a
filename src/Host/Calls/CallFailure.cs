namespace GrpcPlugins.Host.Calls;

/// <summary>A failed plugin call, as a value: who, what kind, and what happened.</summary>
/// <param name="PluginId">The plugin that failed.</param>
/// <param name="Kind">What kind of failure.</param>
/// <param name="Detail">What happened, readable.</param>
public sealed record CallFailure(string PluginId, CallFailureKind Kind, string Detail)
{
    /// <summary>When a retry may succeed, for failures that know it (an open circuit); null otherwise.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The HTTP status this failure maps to.</summary>
    public int StatusCode => Kind switch
    {
        CallFailureKind.Unavailable or CallFailureKind.CircuitOpen or CallFailureKind.Busy => 503,
        CallFailureKind.TimedOut => 504,
        _ => 502,
    };
}
