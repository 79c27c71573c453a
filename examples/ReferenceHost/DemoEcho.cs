using GrpcPlugins.Host.Hooks;

namespace GrpcPlugins.ReferenceHost;

/// <summary>
/// POST /demo/echo: the host's own "business logic" (it echoes the body) run
/// through its two extension points, so a newcomer sees plugins rewrite a body,
/// add a header and short-circuit a request without the endpoint knowing.
/// </summary>
internal static class DemoEcho
{
    /// <summary>The request point before the endpoint, the response point after it; the tenant from X-Tenant.</summary>
    public static readonly EndpointHooks Hooks = new()
    {
        Inbound = ReferenceHooks.Request,
        Outbound = ReferenceHooks.Response,
        Tenant = context => context.Request.Headers["X-Tenant"].ToString(),
    };

    public static async Task<IResult> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return Results.Bytes(buffer.ToArray(), request.ContentType ?? "text/plain; charset=utf-8");
    }
}
