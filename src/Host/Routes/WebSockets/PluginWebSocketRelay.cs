using System.Net.WebSockets;
using Grpc.Core;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Routes.WebSockets;

/// <summary>
/// Serves a client's WebSocket on a plugin route through the plugin's HandleWebSocket:
/// the handshake waits for the plugin's accept (under the route's deadline), then each
/// side's message pieces are relayed as they come, and the close handshake is carried
/// through, bounded by <see cref="PluginHostOptions.WebSocketCloseTimeout"/>. The call
/// holds a call place only until the plugin answers the handshake.
/// </summary>
internal sealed partial class PluginWebSocketRelay(
    OpenWebSockets open,
    PluginCatalog catalog,
    CallFailureReporter reporter,
    IOptions<PluginHostOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<PluginWebSocketRelay> logger)
{
    // Each socket's exchange reads these through its relay.
    internal PluginHostOptions Options => options.Value;

    internal TimeProvider Time => time;

    internal CallFailureReporter Reporter => reporter;

    internal PluginCatalog Catalog => catalog;

    internal ILogger Logger => logger;

    internal CancellationToken HostStopping => lifetime.ApplicationStopping;

    // Compression is the plugin's to ask for (it knows whether a socket mixes a secret with a
    // client's text) and the host's to allow (it pays for it); the client's offer decides the rest.
    private WebSocketAcceptContext AcceptContext(WebSocketAccept accept) => new()
    {
        SubProtocol = accept.SubProtocol.Length == 0 ? null : accept.SubProtocol,
        DangerousEnableCompression = accept.Compress && options.Value.AllowWebSocketCompression,
        // Each message is compressed on its own, so an idle socket holds no compressor's state.
        DisableServerContextTakeover = true,
    };

    /// <summary>
    /// Serves a WebSocket handshake to a plugin whose Ready worker takes WebSockets, holding the
    /// route's <paramref name="lease"/> (this method's to give back) until the plugin has answered it.
    /// </summary>
    public async Task<string> ServeAsync(HttpContext context, PluginSupervisor supervisor, CallLease lease, PluginManifest manifest, HttpRequestHead head)
    {
        var id = supervisor.PluginId;
        var worker = lease.Worker!;
        var leased = true;
        try
        {
            if (!WebSocketHandshake.CanAccept(context))
            {
                await RouteProblem.WriteAsync(context, 501, "websockets-off", "WebSockets are not enabled in this host", $"Plugin '{id}' takes WebSockets, but the host application cannot complete the handshake: it must call app.UseWebSockets() before app.MapPluginEndpoints().").ConfigureAwait(false);
                return "websockets-off";
            }

            var limit = manifest.Limits.MaxWebSockets ?? options.Value.MaxWebSocketsPerPlugin;
            using var place = open.TryTake(id, limit);
            if (place is null)
            {
                await RouteProblem.WriteAsync(context, 503, "websockets-full", $"Plugin '{id}' has its limit of WebSockets open", $"{limit} WebSockets are open on plugin '{id}', its limit (limits.maxWebSockets in its manifest, or PluginHost:MaxWebSocketsPerPlugin); try again once one closes.", TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                return "websockets-full";
            }

            using var deadline = new CallDeadline(manifest.Limits.RouteTimeout ?? options.Value.RouteTimeout, time, context.RequestAborted);
            // Not the request's token: once accepted, the call outlives a client that went away
            // long enough to tell the plugin so with a close.
            using var callCancel = new CancellationTokenSource();
            using var call = worker.Connection.Plugin.HandleWebSocket(cancellationToken: callCancel.Token);
            WebSocketServerFrame? answer;
            try
            {
                var openFrame = new WebSocketOpen { Head = head };
                openFrame.SubProtocols.AddRange(context.WebSockets.WebSocketRequestedProtocols);
                await call.RequestStream.WriteAsync(new WebSocketClientFrame { Open = openFrame }, deadline.Token).ConfigureAwait(false);
                answer = await call.ResponseStream.MoveNext(deadline.Token).ConfigureAwait(false) ? call.ResponseStream.Current : null;
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or InvalidOperationException)
            {
                await callCancel.CancelAsync().ConfigureAwait(false);
                if (deadline.CallerCancelled)
                {
                    return "client-cancelled";
                }

                var failure = RpcFailureClassifier.Classify(id, ex, deadline, worker);
                reporter.Report(failure, $"WebSocket {head.Path}", ex is RpcException ? null : ex);
                await RouteProblem.WriteAsync(context, failure).ConfigureAwait(false);
                return failure.Kind.ToString();
            }

            // An open socket holds no call place: it is counted apart, and an upgrade's drain does not wait for it.
            lease.Dispose();
            leased = false;
            switch (answer?.FrameCase)
            {
                case WebSocketServerFrame.FrameOneofCase.Refuse:
                    var status = answer.Refuse.StatusCode is >= 400 and <= 599 ? answer.Refuse.StatusCode : 502;
                    await RouteProblem.WriteAsync(context, status, "websocket-refused", $"Plugin '{id}' refused the WebSocket", answer.Refuse.Reason).ConfigureAwait(false);
                    return "websocket-refused";
                case WebSocketServerFrame.FrameOneofCase.Accept when answer.Accept.SubProtocol.Length == 0 || context.WebSockets.WebSocketRequestedProtocols.Contains(answer.Accept.SubProtocol):
                    break;
                default:
                    await callCancel.CancelAsync().ConfigureAwait(false);
                    var what = answer is null ? "ended the call without answering the handshake"
                        : answer.FrameCase == WebSocketServerFrame.FrameOneofCase.Accept ? $"accepted with subprotocol '{answer.Accept.SubProtocol}', which the client did not offer"
                        : $"answered the handshake with a {answer.FrameCase} frame instead of accept or refuse";
                    var failure = new CallFailure(id, CallFailureKind.Errored, $"the plugin {what}");
                    reporter.Report(failure, $"WebSocket {head.Path}");
                    await RouteProblem.WriteAsync(context, failure).ConfigureAwait(false);
                    return failure.Kind.ToString();
            }

            WebSocket socket;
            try
            {
                socket = await context.WebSockets.AcceptWebSocketAsync(AcceptContext(answer.Accept)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ConnectionAbortedException or OperationCanceledException)
            {
                // The client left while the plugin decided: the call's end tells the plugin.
                return "client-cancelled";
            }

            using (socket)
            {
                // What the handshake agreed to (permessage-deflate costs this host CPU), or none.
                var extensions = context.Response.Headers.SecWebSocketExtensions;
                if (extensions.Count > 0)
                {
                    place.Compressed();
                }

                Log.Opened(logger, id, head.Path, extensions.Count == 0 ? "none" : extensions.ToString());
                using var exchange = new WebSocketExchange(this, id, head.Path, supervisor, worker, socket, call, callCancel);
                var ended = await exchange.RunAsync().ConfigureAwait(false);
                Log.Closed(logger, id, head.Path, ended);
                return PluginRouteForwarder.PluginWebSocketOutcome;
            }
        }
        finally
        {
            if (leased)
            {
                lease.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1110, EventName = "WebSocketOpened", Level = LogLevel.Debug, Message = "Plugin {PluginId}: WebSocket {Path} open, extensions: {Extensions}")]
        public static partial void Opened(ILogger logger, string pluginId, string path, string extensions);

        [LoggerMessage(EventId = 1111, EventName = "WebSocketClosed", Level = LogLevel.Debug, Message = "Plugin {PluginId}: WebSocket {Path} ended: {How}")]
        public static partial void Closed(ILogger logger, string pluginId, string path, string how);
    }
}
