using System.Buffers;
using GrpcPlugins.Host.Http;
using GrpcPlugins.Host.Routes;
using GrpcPlugins.Host.Routes.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace GrpcPlugins.Host.Hooks.Endpoints;

/// <summary>
/// One application endpoint run through its hook points: the request through the
/// inbound point, the endpoint, its response through the outbound point. A
/// short-circuit or a failed fail-closed point answers instead; the endpoint does
/// not run after an inbound one, and its response is replaced after an outbound one.
/// </summary>
internal sealed partial class EndpointHookRunner(EndpointHooks hooks, string routeId, RequestDelegate endpoint, EndpointHookServices services)
{
    /// <summary>Names the plugin that answered instead of the endpoint.</summary>
    public const string ShortCircuitHeader = "X-Short-Circuited-By";

    // A short-circuit's headers are all new: nothing was offered that they could remove.
    private static readonly Dictionary<string, string> s_none = [];

    public async Task InvokeAsync(HttpContext context)
    {
        var tenant = hooks.Tenant?.Invoke(context) ?? string.Empty;
        if (Settings.TenantId.Problem(tenant) is { } problem)
        {
            await RouteProblem.WriteBadTenantAsync(context, problem).ConfigureAwait(false);
            return;
        }

        if (hooks.Inbound is { } inbound && !await PassInboundAsync(context, inbound, tenant).ConfigureAwait(false))
        {
            return;
        }

        if (hooks.Outbound is { } outbound)
        {
            await RunWithOutboundAsync(context, outbound, tenant).ConfigureAwait(false);
        }
        else
        {
            await endpoint(context).ConfigureAwait(false);
        }
    }

    /// <summary>True when the request goes on to the endpoint, as the plugins left it.</summary>
    private async Task<bool> PassInboundAsync(HttpContext context, HookPoint point, string tenant)
    {
        var request = context.Request;
        // Plugins that are all headers only are offered the head alone: the body is not read for them.
        var wantsBody = services.AnyWantsBody(point, routeId, WebSocketHandshake.MethodOf(context), tenant);
        var (body, whole) = wantsBody
            ? await ReadUpToAsync(request, hooks.MaxBodyBytes, context.RequestAborted).ConfigureAwait(false)
            : (ReadOnlyMemory<byte>.Empty, false);
        if (!whole && wantsBody)
        {
            Log.Streamed(services.Logger, point.Name, routeId, hooks.MaxBodyBytes);
        }

        var offered = HookedHeaders.Offer(request.Headers, HeaderPolicy.AllowsRequest);
        var contentType = request.ContentType ?? string.Empty;
        var outcome = await services.Dispatcher.DispatchAsync(
            point,
            new HookInput(body, contentType, offered, Context(context, tenant, HookDirection.Inbound, streaming: !whole)),
            context.RequestAborted).ConfigureAwait(false);
        if (outcome is not HookOutcome.Continued continued)
        {
            await AnswerInsteadAsync(context, point, outcome).ConfigureAwait(false);
            return false;
        }

        ApplyHead(point, request.Headers, offered, contentType, continued, HeaderPolicy.AllowsRequest);

        if (!whole)
        {
            // Plugins saw the head only; the endpoint reads the body as the client sent it.
            if (!body.IsEmpty)
            {
                request.Body = new PrefixedRequestBody(body, request.Body);
            }
        }
        else if (!body.IsEmpty || !continued.Body.IsEmpty)
        {
            request.Body = new MemoryStream(continued.Body.ToArray(), writable: false);
            request.ContentLength = continued.Body.Length;
        }

        return true;
    }

    private async Task RunWithOutboundAsync(HttpContext context, HookPoint point, string tenant)
    {
        var original = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        // Plugins that are all headers only see the head before the first byte goes, and the body is
        // never held: as a stream past the limit, from its first write.
        var wantsBody = services.AnyWantsBody(point, routeId, WebSocketHandshake.MethodOf(context), tenant);
        var capture = new ResponseCapture(original, wantsBody ? hooks.MaxBodyBytes : 0, ct => PassStreamAsync(context, point, tenant, original, wantsBody, ct));
        context.Features.Set<IHttpResponseBodyFeature>(capture);
        try
        {
            await endpoint(context).ConfigureAwait(false);
            await capture.FinishAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            context.Features.Set(original);
        }

        // A response that started without a byte through the capture was taken over by the endpoint (a
        // WebSocket accepted: its head went out through the upgrade): there is no response left to hook.
        if (capture.Streamed || context.Response.HasStarted)
        {
            return;
        }

        if (await PassResponseAsync(context, point, tenant, capture.Held, streaming: false, context.RequestAborted).ConfigureAwait(false) is { } continued)
        {
            await WriteBodyAsync(context, continued.Body).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The endpoint's response became a stream before it ended: the plugins see its
    /// head now, before any of it is sent. True when the endpoint's bytes go on.
    /// </summary>
    private async Task<bool> PassStreamAsync(HttpContext context, HookPoint point, string tenant, IHttpResponseBodyFeature original, bool wantsBody, CancellationToken cancellationToken)
    {
        if (wantsBody)
        {
            Log.Streamed(services.Logger, point.Name, routeId, hooks.MaxBodyBytes);
        }

        // An answer instead goes to the client, not into the capture the endpoint is still writing to.
        var capture = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        context.Features.Set(original);
        try
        {
            return await PassResponseAsync(context, point, tenant, ReadOnlyMemory<byte>.Empty, streaming: true, cancellationToken).ConfigureAwait(false) is not null;
        }
        finally
        {
            context.Features.Set(capture);
        }
    }

    /// <summary>
    /// The response through the outbound point: its head as the plugins left it and what
    /// they made of the body, or null when they answered instead (already written).
    /// </summary>
    private async Task<HookOutcome.Continued?> PassResponseAsync(HttpContext context, HookPoint point, string tenant, ReadOnlyMemory<byte> body, bool streaming, CancellationToken cancellationToken)
    {
        var response = context.Response;
        var offered = HookedHeaders.Offer(response.Headers, HeaderPolicy.AllowsResponse);
        var contentType = response.ContentType ?? string.Empty;
        var outcome = await services.Dispatcher.DispatchAsync(
            point,
            new HookInput(body, contentType, offered, Context(context, tenant, HookDirection.Outbound, streaming)),
            cancellationToken).ConfigureAwait(false);
        if (outcome is not HookOutcome.Continued continued)
        {
            await AnswerInsteadAsync(context, point, outcome).ConfigureAwait(false);
            return null;
        }

        ApplyHead(point, response.Headers, offered, contentType, continued, HeaderPolicy.AllowsResponse);
        return continued;
    }

    /// <summary>The plugins' headers and content type, on the request or the response.</summary>
    private void ApplyHead(HookPoint point, IHeaderDictionary headers, Dictionary<string, string> offered, string contentType, HookOutcome.Continued continued, Func<string, bool> allowed)
    {
        Refused(point, HookedHeaders.Apply(headers, offered, continued.Headers, allowed));
        if (continued.ContentType != contentType)
        {
            headers.ContentType = continued.ContentType.Length == 0 ? default : continued.ContentType;
        }
    }

    private async Task AnswerInsteadAsync(HttpContext context, HookPoint point, HookOutcome outcome)
    {
        var response = context.Response;
        response.Clear();
        switch (outcome)
        {
            case HookOutcome.ShortCircuited answer:
                response.StatusCode = answer.StatusCode;
                Refused(point, HookedHeaders.Apply(response.Headers, s_none, answer.Headers, HeaderPolicy.AllowsResponse));
                response.Headers[ShortCircuitHeader] = answer.PluginId;
                if (!services.Options.Value.SameOriginPlugins.Contains(answer.PluginId))
                {
                    // The plugin's answer stands where the application's page would: sandboxed, as its routes are.
                    response.Headers.Append(HeaderNames.ContentSecurityPolicy, HeaderPolicy.PluginSandbox);
                }
                if (answer.ContentType.Length > 0)
                {
                    response.ContentType = answer.ContentType;
                }

                await WriteBodyAsync(context, answer.Body).ConfigureAwait(false);
                break;
            case HookOutcome.Failed failed:
                await RouteProblem.WriteAsync(context, failed.Failure).ConfigureAwait(false);
                break;
        }
    }

    private static Task WriteBodyAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        if (response.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)
        {
            response.ContentLength = null;
            return Task.CompletedTask;
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            // A HEAD answer's length is the GET answer's, which the endpoint set if it knew it.
            if (!body.IsEmpty)
            {
                response.ContentLength = body.Length;
            }

            return Task.CompletedTask;
        }

        response.ContentLength = body.Length;
        return body.IsEmpty ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    // The request line goes with every call (an auth hook decides on "DELETE /orders/42"), and the
    // status with the response's (a hook that rewrites errors).
    private HookCallContext Context(HttpContext context, string tenant, HookDirection direction, bool streaming)
    {
        var request = context.Request;
        return new(routeId, tenant, Direction: direction, IsStreaming: streaming)
        {
            Method = WebSocketHandshake.MethodOf(context),
            Path = request.PathBase.Add(request.Path).Value ?? string.Empty,
            Query = request.QueryString.Value ?? string.Empty,
            StatusCode = direction == HookDirection.Outbound ? context.Response.StatusCode : 0,
            User = context.User.Identity is { IsAuthenticated: true, Name: { } name } ? name : string.Empty,
        };
    }

    private void Refused(HookPoint point, IReadOnlyList<string> names)
    {
        foreach (var name in names)
        {
            Log.HeaderRefused(services.Logger, point.Name, routeId, name);
        }
    }

    /// <summary>The body if it is at most <paramref name="limit"/> bytes (whole), else what was read to find out.</summary>
    private static async Task<(ReadOnlyMemory<byte> Body, bool Whole)> ReadUpToAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (ReadOnlyMemory<byte>.Empty, false);
        }

        if (request.ContentLength == 0)
        {
            return (ReadOnlyMemory<byte>.Empty, true);
        }

        using var body = new MemoryStream((int)request.ContentLength.GetValueOrDefault());
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                var wanted = (int)Math.Min(chunk.Length, limit + 1 - body.Length);
                var read = await request.Body.ReadAsync(chunk.AsMemory(0, wanted), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (body.ToArray(), true);
                }

                body.Write(chunk, 0, read);
                if (body.Length > limit)
                {
                    return (body.ToArray(), false);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, EventName = "HookHeaderRefused", Level = LogLevel.Warning, Message = "A plugin at hook point {Point} on {Route} set the header '{Header}', which plugins may not set (credentials, cookies, framing); it was left as it was")]
        public static partial void HeaderRefused(ILogger logger, string point, string route, string header);

        [LoggerMessage(EventId = 2102, EventName = "HookBodyStreamed", Level = LogLevel.Debug, Message = "Hook point {Point} on {Route}: the body is over {Limit} bytes or streamed, so plugins see its headers only")]
        public static partial void Streamed(ILogger logger, string point, string route, long limit);
    }
}
