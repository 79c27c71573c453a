namespace GrpcPlugins.Sdk;

/// <summary>Where a hook call comes from.</summary>
/// <param name="RouteId">The host's id for the route being served, or empty.</param>
/// <param name="TenantId">The tenant the call is for, or empty.</param>
/// <param name="ProviderId">The upstream provider (for an AI-call hook), or empty.</param>
/// <param name="Direction">Inbound or outbound.</param>
/// <param name="IsStreaming">
/// True when the body is streamed: streamed bodies are not offered for
/// inspection, so <see cref="HookCall.Body"/> is empty and a modified body is ignored.
/// </param>
/// <param name="Properties">Free-form properties the host chose to share.</param>
public sealed record HookCallContext(
    string RouteId,
    string TenantId,
    string ProviderId,
    HookDirection Direction,
    bool IsStreaming,
    IReadOnlyDictionary<string, string> Properties)
{
    /// <summary>
    /// The HTTP request's method in upper case ("POST") when the hook point serves one (an
    /// endpoint the host runs through hook points); empty otherwise.
    /// </summary>
    public string Method { get; init; } = string.Empty;

    /// <summary>The request's path as the host's routing saw it, percent-decoded ("/orders/42"); empty with <see cref="Method"/>.</summary>
    public string Path { get; init; } = string.Empty;

    /// <summary>The request's query string with its "?" ("?page=2"), or empty.</summary>
    public string Query { get; init; } = string.Empty;

    /// <summary>On the way out, the response's status code (200); 0 on the way in and when no HTTP request is served.</summary>
    public int StatusCode { get; init; }

    /// <summary>The authenticated caller's name, when the request has one; empty otherwise.</summary>
    public string User { get; init; } = string.Empty;
}
