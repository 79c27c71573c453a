namespace GrpcPlugins.Host.Hooks;

/// <summary>Whether a hook sees traffic on its way in or on its way out.</summary>
public enum HookDirection
{
    /// <summary>Not said.</summary>
    Unspecified,

    /// <summary>A request on its way in.</summary>
    Inbound,

    /// <summary>A response on its way out.</summary>
    Outbound,
}

/// <summary>The context of a hook call, as the host's extension point knows it.</summary>
/// <param name="RouteId">The host's id for the route being served.</param>
/// <param name="TenantId">The tenant, if any.</param>
/// <param name="ProviderId">The upstream provider (AI-call hooks), if any.</param>
/// <param name="Direction">Inbound or outbound.</param>
/// <param name="IsStreaming">True for a streamed body: the body is not offered to plugins and cannot be replaced.</param>
/// <param name="Properties">Free-form properties shared with plugins.</param>
public sealed record HookCallContext(
    string RouteId = "",
    string TenantId = "",
    string ProviderId = "",
    HookDirection Direction = HookDirection.Unspecified,
    bool IsStreaming = false,
    IReadOnlyDictionary<string, string>? Properties = null)
{
    /// <summary>The HTTP request's method in upper case, when the point serves one; hook matches narrowed to methods take only calls that have one.</summary>
    public string Method { get; init; } = string.Empty;

    /// <summary>The request's path as routing saw it (with the base path), when the point serves an HTTP request.</summary>
    public string Path { get; init; } = string.Empty;

    /// <summary>The request's query string with its "?", or empty.</summary>
    public string Query { get; init; } = string.Empty;

    /// <summary>On the way out, the response's status code so far; 0 otherwise.</summary>
    public int StatusCode { get; init; }

    /// <summary>The authenticated caller's name, or empty.</summary>
    public string User { get; init; } = string.Empty;
}

/// <summary>What enters a hook point.</summary>
/// <param name="Body">The body (ignored when the context says it is streaming).</param>
/// <param name="ContentType">The body's media type.</param>
/// <param name="Headers">Headers with lower-case names.</param>
/// <param name="Context">Where the call comes from.</param>
public sealed record HookInput(ReadOnlyMemory<byte> Body, string ContentType, IReadOnlyDictionary<string, string> Headers, HookCallContext Context);
