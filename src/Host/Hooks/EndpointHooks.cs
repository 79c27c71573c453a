using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Hooks;

/// <summary>
/// The hook points an endpoint of the embedding application runs its requests and
/// responses through; see <see cref="EndpointHookConventions.WithPluginHooks{TBuilder}(TBuilder, EndpointHooks)"/>.
/// </summary>
public sealed record EndpointHooks
{
    /// <summary>The largest body a plugin can be offered: a gRPC message is at most 16 MiB, headers included.</summary>
    public const long MaxInspectableBytes = 15L * 1024 * 1024;

    /// <summary>The point a request passes before the endpoint runs; plugins may rewrite its body and headers, or answer it.</summary>
    public HookPoint? Inbound { get; init; }

    /// <summary>The point the endpoint's response passes before it is sent; plugins may rewrite it, or answer instead.</summary>
    public HookPoint? Outbound { get; init; }

    /// <summary>The tenant a call belongs to, given to plugins (and their per-tenant settings). Defaults to none.</summary>
    public Func<HttpContext, string>? Tenant { get; init; }

    /// <summary>The route id plugins see. Defaults to the endpoint's route pattern.</summary>
    public string? RouteId { get; init; }

    /// <summary>
    /// The largest body offered to plugins, in bytes, each way. A larger request or
    /// response still passes the point, as a stream: plugins see its headers and
    /// may answer instead, but cannot see or replace its body. 0 makes every body a
    /// stream (for an endpoint that streams its response, so nothing is held).
    /// Defaults to 4 MiB; at most <see cref="MaxInspectableBytes"/>.
    /// </summary>
    public long MaxBodyBytes { get; init; } = 4L * 1024 * 1024;
}
