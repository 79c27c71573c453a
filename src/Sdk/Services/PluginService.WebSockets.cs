using Grpc.Core;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Sdk.WebSockets;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Sdk.Services;

/// <summary>HandleWebSocket: a route's WebSocket, from the handshake the host holds to the call's end.</summary>
internal sealed partial class PluginService
{
    public override async Task HandleWebSocket(IAsyncStreamReader<WebSocketClientFrame> requestStream, IServerStreamWriter<WebSocketServerFrame> responseStream, ServerCallContext context)
    {
        var callEnded = context.CancellationToken;
        if (!await requestStream.MoveNext(callEnded).ConfigureAwait(false) || requestStream.Current is not { FrameCase: WebSocketClientFrame.FrameOneofCase.Open, Open.Head: { } head } first)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the first HandleWebSocket frame must be an open frame with a head"));
        }

        // The worker's stop ends every socket: a WebSocket lives as long as its client wants,
        // and the host's grace period would otherwise end in a kill.
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(callEnded, lifetime.Stopping);
        var session = new WebSocketSession(requestStream, responseStream, lifetime, aborted.Token);
        var route = plugin.Routes.Match("GET", head.Path, out _);
        if (route?.WebSocketHandler is not { } handler)
        {
            await session.RefuseAsync(404, $"plugin '{plugin.Id}' takes no WebSocket at {head.Path}").ConfigureAwait(false);
            return;
        }

        using var activity = StartActivity("WebSocket " + head.Path, head.Traceparent);
        var request = new RouteRequest("GET", head.Path, RouteTable.ValuesOf(route, head.Path), head.Query, [.. head.Headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))], head.User, Stream.Null)
        {
            TenantId = head.TenantId,
        };
        Exception? failure = null;
        try
        {
            await handler(new WebSocketRouteContext(request, [.. first.Open.SubProtocols], host, session)).ConfigureAwait(false);
        }
        catch (Exception ex) when (aborted.IsCancellationRequested || ex is System.Net.WebSockets.WebSocketException { WebSocketErrorCode: System.Net.WebSockets.WebSocketError.ConnectionClosedPrematurely })
        {
            // The client went away or the worker is stopping: what the handler waited on ended, which is no failure of its.
        }
        catch (Exception ex)
        {
            // Told to the client as the close's reason (or the refusal's), and logged here once.
            Log.WebSocketFailed(logger, head.Path, ex);
            failure = ex;
        }

        await session.FinishAsync(failure, callEnded).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5005, EventName = "WebSocketFailed", Level = LogLevel.Error, Message = "WebSocket {Path} failed")]
        public static partial void WebSocketFailed(ILogger logger, string path, Exception exception);
    }
}
