namespace GrpcPlugins.Sdk;

/// <summary>
/// Narrows a hook to the calls it handles: the host makes no call at all for the others,
/// so a hook that cares about a few routes or media types costs the rest of the traffic
/// nothing. The plugin's manifest must declare the same match on its hook (the host reads
/// it there before the plugin runs, and refuses a plugin whose two differ, showing both).
/// </summary>
public sealed record HookMatch
{
    /// <summary>
    /// Route ids (<see cref="HookCallContext.RouteId"/>) the hook handles: a whole id, or a
    /// prefix followed by "*" ("/orders*"). Empty: any route.
    /// </summary>
    public IReadOnlyList<string> RouteIds { get; init; } = [];

    /// <summary>
    /// HTTP methods the hook handles, in upper case ("POST", "DELETE"); "GET" also takes
    /// "HEAD", as HTTP does. A call about no HTTP request (<see cref="HookCallContext.Method"/>
    /// empty) matches only an empty list. Empty: any.
    /// </summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>
    /// Media types the hook handles, compared without parameters and in any letter case:
    /// "application/json", or "text/*" for a type's subtypes. A call without a content type
    /// matches only an empty list. Empty: any.
    /// </summary>
    public IReadOnlyList<string> ContentTypes { get; init; } = [];

    /// <summary>
    /// True when the hook never reads the body: <see cref="HookCall.Body"/> is then always
    /// empty (the host does not send it), and answering with a new body is an error.
    /// Headers, content type and short-circuits work as usual.
    /// </summary>
    public bool HeadersOnly { get; init; }
}
