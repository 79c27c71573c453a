using GrpcPlugins.Host.Hooks;

namespace GrpcPlugins.ReferenceHost;

/// <summary>
/// POST /demo/echo: the host's own "business logic" (it echoes the body) with
/// its two extension points around it, so a newcomer sees plugins rewrite a
/// body, add a header and short-circuit a request.
/// </summary>
internal static class DemoEcho
{
    public static async Task<IResult> HandleAsync(HttpRequest request, IHookDispatcher hooks, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var tenant = request.Headers["X-Tenant"].ToString();

        var inbound = await hooks.DispatchAsync(
            ReferenceHooks.Request,
            new HookInput(buffer.ToArray(), request.ContentType ?? "text/plain", headers, new HookCallContext("demo-echo", tenant, Direction: HookDirection.Inbound)),
            cancellationToken);
        if (Answer(inbound) is { } early)
        {
            return early;
        }

        var continued = (HookOutcome.Continued)inbound;
        // The host's own work: echo what the plugins let through.
        var echoed = continued.Body;

        var outbound = await hooks.DispatchAsync(
            ReferenceHooks.Response,
            new HookInput(echoed, continued.ContentType, new Dictionary<string, string>(), new HookCallContext("demo-echo", tenant, Direction: HookDirection.Outbound)),
            cancellationToken);
        if (Answer(outbound) is { } late)
        {
            return late;
        }

        var final = (HookOutcome.Continued)outbound;
        return new BytesResult(200, final.Body, final.ContentType, final.Headers);
    }

    private static IResult? Answer(HookOutcome outcome) => outcome switch
    {
        HookOutcome.ShortCircuited sc => new BytesResult(sc.StatusCode, sc.Body, sc.ContentType, new Dictionary<string, string>(sc.Headers) { ["x-short-circuited-by"] = sc.PluginId }),
        HookOutcome.Failed failed => Results.Problem(title: $"Plugin '{failed.Failure.PluginId}' failed", detail: failed.Failure.Detail, statusCode: failed.Failure.StatusCode),
        _ => null,
    };

    private sealed class BytesResult(int status, ReadOnlyMemory<byte> body, string contentType, IReadOnlyDictionary<string, string> headers) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = string.IsNullOrEmpty(contentType) ? "text/plain; charset=utf-8" : contentType;
            foreach (var (name, value) in headers)
            {
                if (name.StartsWith("x-", StringComparison.OrdinalIgnoreCase))
                {
                    httpContext.Response.Headers[name] = value;
                }
            }

            await httpContext.Response.Body.WriteAsync(body);
        }
    }
}
