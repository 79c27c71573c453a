using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Sdk.HostApi;
using GrpcPlugins.Sdk.Http;
using GrpcPlugins.Sdk.Server;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Sdk.Services;

/// <summary>Serves the Plugin contract for one <see cref="PluginDefinition"/>.</summary>
internal sealed partial class PluginService(PluginDefinition plugin, PluginHostClient host, WorkerLifetime lifetime, ILogger logger) : Protocol.V1.Plugin.PluginBase
{
    private static readonly ActivitySource s_activities = new(PluginRunner.ActivitySourceName);
    private const string RuntimeName = "GrpcPlugins.Sdk/" + SdkVersion.Value;
    private readonly Dictionary<string, HookRegistration> _hooks = plugin.Hooks.ToDictionary(h => h.Point, StringComparer.Ordinal);

    public override Task<DescribeResponse> Describe(DescribeRequest request, ServerCallContext context)
    {
        if (request.HostCallback is { } back)
        {
            host.Offer(back.Address, back.Token, context.Peer);
        }

        var reply = new DescribeResponse
        {
            Id = plugin.Id,
            Version = plugin.Version,
            SettingsSchemaJson = plugin.SettingsSchemaJson,
            Runtime = RuntimeName,
            ServesHttpBuffered = true,
            // An attached worker its host offers no way back cannot pull, so the host streams each body in the call.
            PullsHttpBody = host.CanCallBack,
            ServesWebsockets = plugin.Routes.Routes.Any(r => r.WebSocketHandler is not null),
        };
        reply.Hooks.AddRange(plugin.Hooks.Select(h => new Protocol.V1.HookRegistration { Point = h.Point, Priority = h.Priority, Match = ToProto(h.Match) }));
        reply.Routes.AddRange(plugin.Routes.Routes.Select(r => new Protocol.V1.RouteRegistration { Method = r.Method, Path = r.Path, AllowAnonymous = r.AllowAnonymous }));
        reply.Permissions.AddRange(plugin.Permissions);
        return Task.FromResult(reply);
    }

    public override async Task<ConfigureResponse> Configure(ConfigureRequest request, ServerCallContext context)
    {
        var reply = new ConfigureResponse { Accepted = true };
        if (plugin.OnConfigure is { } onConfigure)
        {
            IReadOnlyList<SettingError> errors;
            try
            {
                errors = await onConfigure(new PluginSettings(request.TenantId, request.SettingsJson, request.Revision) { Removed = request.Removed }, context.CancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not RpcException && !context.CancellationToken.IsCancellationRequested)
            {
                Log.ConfigureFailed(logger, request.TenantId, ex);
                throw HandlerFailed("configure", ex);
            }

            reply.Accepted = errors.Count == 0;
            reply.Errors.AddRange(errors.Select(e => new FieldError { Path = e.Path, Message = e.Message }));
        }

        return reply;
    }

    public override async Task<HookResponse> InvokeHook(HookRequest request, ServerCallContext context)
    {
        if (!_hooks.TryGetValue(request.Point, out var registration))
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, $"plugin '{plugin.Id}' does not handle hook point '{request.Point}'"));
        }

        // The host applies the match before it calls; a host that predates matches does not.
        var match = registration.Match;
        if (match is not null && !Routing.HookMatchRules.Accepts(match.RouteIds, match.Methods, match.ContentTypes, request.Context?.RouteId ?? string.Empty, request.Context?.Method ?? string.Empty, request.ContentType))
        {
            return new HookResponse { Continue = new HookContinue() };
        }

        using var activity = StartActivity("hook " + request.Point, request.Context?.Traceparent);
        var body = match is { HeadersOnly: true } ? ReadOnlyMemory<byte>.Empty : request.Body.Memory;
        var call = new HookCall(request.Point, body, request.ContentType, request.Headers, ToContext(request.Context), host);
        HookResult result;
        try
        {
            result = await registration.Handler(call, context.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            Log.HookFailed(logger, request.Point, ex);
            throw HandlerFailed($"hook '{request.Point}'", ex);
        }

        if (registration.Match is { HeadersOnly: true } && result is HookResult.ModifyResult { ReplaceBody: true })
        {
            var ex = new InvalidOperationException($"hook '{request.Point}' is headers only (HookMatch.HeadersOnly), so it is never sent the body and cannot replace it: answer with HookResult.SetHeaders, Continue or ShortCircuit");
            Log.HookFailed(logger, request.Point, ex);
            throw HandlerFailed($"hook '{request.Point}'", ex);
        }

        return ToResponse(result, request.Context?.IsStreaming == true);
    }

    public override async Task HandleHttp(IAsyncStreamReader<HttpRequestFrame> requestStream, IServerStreamWriter<HttpResponseFrame> responseStream, ServerCallContext context)
    {
        var aborted = context.CancellationToken;
        if (!await requestStream.MoveNext(aborted).ConfigureAwait(false) || requestStream.Current.FrameCase != HttpRequestFrame.FrameOneofCase.Head)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the first HandleHttp frame must be a head frame"));
        }

        using var writer = new RouteFrameWriter(responseStream, FlushOf(context));
        await ServeRouteAsync(requestStream.Current.Head, new RequestBodyStream(requestStream, aborted), writer, aborted).ConfigureAwait(false);
        // The answer must not wait for the rest of an upload the handler did not read.
        await writer.WriteThroughAsync(aborted).ConfigureAwait(false);
        await DrainAsync(requestStream, aborted).ConfigureAwait(false);
    }

    public override async Task HandleHttpBuffered(HttpBufferedRequest request, IServerStreamWriter<HttpResponseFrame> responseStream, ServerCallContext context)
    {
        if (request.Head is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a HandleHttpBuffered request must carry a head"));
        }

        // The message's own bytes back the body stream; nothing is copied. A body the host
        // kept back is read from it when the handler reads.
        using Stream body = request.Head.BodyId.Length > 0
            ? new PulledBodyStream(ct => host.ReadHttpBody(request.Head.BodyId, context.Peer, ct), context.CancellationToken)
            : MemoryMarshal.TryGetArray(request.Body.Memory, out var bytes)
                ? new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false)
                : new MemoryStream(request.Body.ToByteArray(), writable: false);
        using var writer = new RouteFrameWriter(responseStream, FlushOf(context));
        await ServeRouteAsync(request.Head, body, writer, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes what the call has written with a buffer hint (gRPC writes into the response's pipe).</summary>
    private static Func<CancellationToken, Task> FlushOf(ServerCallContext context) =>
        context.Worker().FlushAsync;

    /// <summary>Runs the matching route's handler for one request, whichever RPC carried it.</summary>
    private async Task ServeRouteAsync(HttpRequestHead head, Stream body, RouteFrameWriter writer, CancellationToken aborted)
    {
        using var activity = StartActivity(head.Method + " " + head.Path, head.Traceparent);
        var response = new RouteResponse(
            (status, headers, flush, ct) =>
            {
                var frame = new HttpResponseHead { StatusCode = status };
                frame.Headers.AddRange(headers.Select(h => new HttpHeader { Name = h.Key, Value = h.Value }));
                // A head followed at once by a body chunk travels in the same flush.
                return writer.WriteAsync(new HttpResponseFrame { Head = frame }, partOfNext: !flush, ct);
            },
            writer.WriteBodyAsync);

        var route = plugin.Routes.Match(head.Method, head.Path, out var pathKnown);
        if (route is null)
        {
            response.StatusCode = pathKnown ? 405 : 404;
            await response.WriteAsync(pathKnown ? $"method {head.Method} is not allowed on {head.Path}" : $"plugin '{plugin.Id}' has no route {head.Path}", aborted).ConfigureAwait(false);
            return;
        }

        var request = new RouteRequest(
            head.Method,
            head.Path,
            RouteTable.ValuesOf(route, head.Path),
            head.Query,
            [.. head.Headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))],
            head.User,
            body)
        {
            TenantId = head.TenantId,
        };
        try
        {
            var handling = route.Handler(new RouteContext(request, response, host, aborted));
            if (!handling.IsCompleted)
            {
                await writer.WriteThroughAsync(aborted).ConfigureAwait(false);
            }

            await handling.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not RpcException && !aborted.IsCancellationRequested)
        {
            // The host going away (a reset stream, a deadline) is not the handler's failure.
            Log.RouteFailed(logger, head.Method, head.Path, ex);
            throw HandlerFailed($"route {head.Method} {head.Path}", ex);
        }

        await response.StartAsync(aborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads what is left of the request until the host closes its side. A
    /// server that ends a stream the client still holds open leaves Kestrel
    /// tracking it, and enough of those make it refuse new streams.
    /// </summary>
    private static async Task DrainAsync(IAsyncStreamReader<HttpRequestFrame> requestStream, CancellationToken aborted)
    {
        while (await requestStream.MoveNext(aborted).ConfigureAwait(false))
        {
            // Unread body chunks of a handler that answered early are dropped.
        }
    }

    public override Task<ShutdownResponse> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        Log.ShutdownRequested(logger, request.Reason, request.GracePeriodMs);
        // Stop after the reply is on the wire, so the host sees the acknowledgement.
        context.Worker().OnCompleted(() =>
        {
            lifetime.Stop();
            return Task.CompletedTask;
        });
        return Task.FromResult(new ShutdownResponse());
    }

    /// <summary>The host's view of a handler's failure, logged here once: what failed and with which exception.</summary>
    private static RpcException HandlerFailed(string what, Exception exception) =>
        new(new Status(StatusCode.Unknown, $"{what} failed: {exception.GetType().Name}: {exception.Message}", exception));

    /// <summary>A span whose parent is the host's span, so a plugin's own spans join the host's trace.</summary>
    private static Activity? StartActivity(string name, string? traceparent) =>
        ActivityContext.TryParse(traceparent, null, out var parent)
            ? s_activities.StartActivity(name, ActivityKind.Server, parent)
            : s_activities.StartActivity(name, ActivityKind.Server);

    private static HookCallContext ToContext(Protocol.V1.HookContext? context) => context is null
        ? new HookCallContext(string.Empty, string.Empty, string.Empty, HookDirection.Unspecified, false, new Dictionary<string, string>())
        : new HookCallContext(
            context.RouteId,
            context.TenantId,
            context.ProviderId,
            context.Direction switch { Direction.Inbound => HookDirection.Inbound, Direction.Outbound => HookDirection.Outbound, _ => HookDirection.Unspecified },
            context.IsStreaming,
            context.Properties)
        {
            Method = context.Method,
            Path = context.Path,
            Query = context.Query,
            StatusCode = context.StatusCode,
            User = context.User,
        };

    private static Protocol.V1.HookMatch? ToProto(HookMatch? match) => match is null ? null : new Protocol.V1.HookMatch
    {
        RouteIds = { match.RouteIds },
        ContentTypes = { match.ContentTypes },
        HeadersOnly = match.HeadersOnly,
        Methods = { match.Methods },
    };

    private static HookResponse ToResponse(HookResult result, bool isStreaming) => result switch
    {
        HookResult.ModifyResult modify => new HookResponse
        {
            Modify = new HookModify
            {
                // A streamed body was never offered, so it cannot be replaced.
                ReplaceBody = modify.ReplaceBody && !isStreaming,
                Body = modify.ReplaceBody && !isStreaming ? ByteString.CopyFrom(modify.Body.Span) : ByteString.Empty,
                ContentType = modify.ContentType ?? string.Empty,
                SetHeaders = { modify.HeadersToSet.ToDictionary() },
            },
        },
        HookResult.ShortCircuitResult shortCircuit => new HookResponse
        {
            ShortCircuit = new HookShortCircuit
            {
                StatusCode = shortCircuit.StatusCode,
                Body = ByteString.CopyFrom(shortCircuit.Body.Span),
                ContentType = shortCircuit.ContentType,
            },
        },
        _ => new HookResponse { Continue = new HookContinue() },
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, EventName = "HookFailed", Level = LogLevel.Error, Message = "Hook {Point} failed")]
        public static partial void HookFailed(ILogger logger, string point, Exception exception);

        [LoggerMessage(EventId = 5002, EventName = "RouteFailed", Level = LogLevel.Error, Message = "Route {Method} {Path} failed")]
        public static partial void RouteFailed(ILogger logger, string method, string path, Exception exception);

        [LoggerMessage(EventId = 5004, EventName = "ConfigureFailed", Level = LogLevel.Error, Message = "Configure failed (tenant '{TenantId}')")]
        public static partial void ConfigureFailed(ILogger logger, string tenantId, Exception exception);

        [LoggerMessage(EventId = 5003, EventName = "ShutdownRequested", Level = LogLevel.Information, Message = "Shutdown requested by the host ({Reason}); grace {GraceMs} ms")]
        public static partial void ShutdownRequested(ILogger logger, string reason, long graceMs);
    }
}
