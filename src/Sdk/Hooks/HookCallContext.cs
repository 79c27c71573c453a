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
    IReadOnlyDictionary<string, string> Properties);
