using System.Buffers;
using System.Net.WebSockets;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;
using GrpcPlugins.Supervisor.Workers;
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
    private const int ReceiveBufferBytes = 16 * 1024;

    // The exchange of each socket reads these through its relay.
    private PluginHostOptions Options => options.Value;

    private TimeProvider Time => time;

    private CallFailureReporter Reporter => reporter;

    private PluginCatalog Catalog => catalog;

    private ILogger Logger => logger;

    private CancellationToken HostStopping => lifetime.ApplicationStopping;

    /// <summary>
    /// Serves the handshake when the plugin takes WebSockets; null, having answered nothing,
    /// when it does not (or has no Ready worker), so that the request goes the plain way.
    /// </summary>
    public async Task<string?> TryServeAsync(HttpContext context, PluginSupervisor supervisor, PluginManifest manifest, HttpRequestHead head)
    {
        var id = supervisor.PluginId;
        var lease = supervisor.Lease();
        var leased = true;
        try
        {
            if (lease.Worker is not { Description.ServesWebsockets: true } worker)
            {
                return null;
            }

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
                socket = await context.WebSockets.AcceptWebSocketAsync(answer.Accept.SubProtocol.Length == 0 ? null : answer.Accept.SubProtocol).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ConnectionAbortedException or OperationCanceledException)
            {
                // The client left while the plugin decided: the call's end tells the plugin.
                return "client-cancelled";
            }

            using (socket)
            {
                Log.Opened(logger, id, head.Path);
                using var exchange = new Exchange(this, id, head.Path, supervisor, worker, socket, call, callCancel);
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

    /// <summary>
    /// One accepted socket: the client's side relayed up, the plugin's relayed down, until both
    /// have closed; once either begins to close, the other has the close timeout to follow.
    /// </summary>
    private sealed class Exchange(PluginWebSocketRelay relay, string id, string path, PluginSupervisor supervisor, Worker worker, WebSocket socket, AsyncDuplexStreamingCall<WebSocketClientFrame, WebSocketServerFrame> call, CancellationTokenSource callCancel) : IDisposable
    {
        private readonly SemaphoreSlim _sending = new(1, 1);
        private readonly TaskCompletionSource _closing = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _giveUp = new();
        private int _clientCloseSent;
        private string _ended = "closed";

        public async Task<string> RunAsync()
        {
            // The host's server waits for open requests before it stops, and this one would not end
            // by itself: the client is asked to close, and the plugin hears it from the client.
            using var hostStopping = relay.HostStopping.Register(() => _ = HostStoppingAsync());
            var relayed = Task.WhenAll(UpAsync(), DownAsync());
            await Task.WhenAny(relayed, _closing.Task).ConfigureAwait(false);
            if (!relayed.IsCompleted && await Task.WhenAny(relayed, Task.Delay(relay.Options.WebSocketCloseTimeout, relay.Time)).ConfigureAwait(false) != relayed)
            {
                // One end did not answer the other's close in time: neither is waited for any longer.
                _ended = $"{_ended}; the other end did not close within {relay.Options.WebSocketCloseTimeout.TotalSeconds:0.#} s";
                await _giveUp.CancelAsync().ConfigureAwait(false);
                await callCancel.CancelAsync().ConfigureAwait(false);
                socket.Abort();
            }

            await relayed.ConfigureAwait(false);
            return _ended;
        }

        public void Dispose()
        {
            _giveUp.Dispose();
            _sending.Dispose();
        }

        private async Task HostStoppingAsync()
        {
            _ended = "the host is stopping";
            _closing.TrySetResult();
            await CloseClientAsync(WebSocketCloseStatus.EndpointUnavailable, "the host is stopping").ConfigureAwait(false);
        }

        /// <summary>The client's messages to the plugin, then its close (or the reason it is gone).</summary>
        private async Task UpAsync()
        {
            var max = relay.Options.MaxWebSocketMessageBytes;
            var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferBytes);
            WebSocketClose close;
            try
            {
                long messageBytes = 0;
                while (true)
                {
                    var got = await socket.ReceiveAsync(buffer, _giveUp.Token).ConfigureAwait(false);
                    if (got.MessageType == WebSocketMessageType.Close)
                    {
                        close = new WebSocketClose { Status = (int?)got.CloseStatus ?? 0, Description = got.CloseStatusDescription ?? string.Empty };
                        _ended = $"the client closed ({close.Status})";
                        break;
                    }

                    messageBytes += got.Count;
                    if (messageBytes > max)
                    {
                        var why = $"a message may be {max} bytes at most (PluginHost:MaxWebSocketMessageBytes)";
                        close = new WebSocketClose { Status = (int)WebSocketCloseStatus.MessageTooBig, Description = CloseStatusRules.Fit($"the client's {why}") };
                        _ended = $"the client sent a message too big: {why}";
                        await CloseClientAsync(WebSocketCloseStatus.MessageTooBig, CloseStatusRules.Fit(why)).ConfigureAwait(false);
                        break;
                    }

                    var piece = new WebSocketMessage { Data = ByteString.CopyFrom(buffer, 0, got.Count), Text = got.MessageType == WebSocketMessageType.Text, EndOfMessage = got.EndOfMessage };
                    await call.RequestStream.WriteAsync(new WebSocketClientFrame { Message = piece }, _giveUp.Token).ConfigureAwait(false);
                    messageBytes = got.EndOfMessage ? 0 : messageBytes;
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ConnectionAbortedException)
            {
                close = new WebSocketClose { Status = (int)WebSocketCloseStatus.EndpointUnavailable, Description = "the client went away" };
                _ended = _giveUp.IsCancellationRequested || _ended != "closed" ? _ended : "the client went away without closing";
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException)
            {
                // The call broke under the write: the plugin's side says why, below.
                _closing.TrySetResult();
                return;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            _closing.TrySetResult();
            try
            {
                await call.RequestStream.WriteAsync(new WebSocketClientFrame { Close = close }, _giveUp.Token).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or OperationCanceledException or IOException)
            {
                // The plugin's side ended first; it has nothing left to be told.
            }
        }

        /// <summary>The plugin's messages to the client, then its close; a broken call closes the client with why.</summary>
        private async Task DownAsync()
        {
            var closed = false;
            try
            {
                while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
                {
                    var frame = call.ResponseStream.Current;
                    switch (frame.FrameCase)
                    {
                        case WebSocketServerFrame.FrameOneofCase.Message when !closed:
                            var message = frame.Message;
                            await SendToClientAsync(message).ConfigureAwait(false);
                            break;
                        case WebSocketServerFrame.FrameOneofCase.Close when !closed:
                            closed = true;
                            _closing.TrySetResult();
                            if (!CloseStatusRules.MaySend(frame.Close.Status))
                            {
                                Log.BadCloseStatus(relay.Logger, id, path, frame.Close.Status);
                            }

                            await CloseClientAsync(CloseStatusRules.Relayable(frame.Close.Status), CloseStatusRules.Fit(frame.Close.Description)).ConfigureAwait(false);
                            break;
                        case WebSocketServerFrame.FrameOneofCase.Message or WebSocketServerFrame.FrameOneofCase.Close:
                            // After its close a plugin has nothing more to say; late frames are dropped, as a WebSocket drops them.
                            break;
                        default:
                            throw new RpcException(new Status(StatusCode.Internal, $"the plugin sent a {frame.FrameCase} frame on an open WebSocket; only message and close may follow accept"));
                    }
                }

                if (!closed)
                {
                    _ended = "the plugin ended the call without closing";
                    relay.Reporter.Report(new CallFailure(id, CallFailureKind.Errored, "the plugin ended the WebSocket's call without a close frame"), $"WebSocket {path}");
                    await CloseClientAsync(WebSocketCloseStatus.InternalServerError, "the plugin ended the WebSocket without closing it").ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or InvalidOperationException)
            {
                if (_giveUp.IsCancellationRequested || closed)
                {
                    return;
                }

                // A worker that stops (an upgrade, a disable, a restart) is no failure of the socket's: the client reconnects.
                var replaced = worker.StoppedWhileRunning || relay.Catalog.Find(id)?.Supervisor != supervisor;
                if (replaced)
                {
                    _ended = "the plugin's worker stopped";
                    await CloseClientAsync((WebSocketCloseStatus)1012, "the plugin is restarting; reconnect").ConfigureAwait(false);
                }
                else
                {
                    using var noDeadline = new CallDeadline(Timeout.InfiniteTimeSpan, relay.Time, CancellationToken.None);
                    var failure = RpcFailureClassifier.Classify(id, ex, noDeadline, worker);
                    relay.Reporter.Report(failure, $"WebSocket {path}", ex is RpcException ? null : ex);
                    _ended = $"the plugin failed: {failure.Detail}";
                    await CloseClientAsync(WebSocketCloseStatus.InternalServerError, CloseStatusRules.Fit($"plugin '{id}' failed: {failure.Kind}")).ConfigureAwait(false);
                }
            }
            finally
            {
                _closing.TrySetResult();
            }
        }

        private async Task SendToClientAsync(WebSocketMessage message)
        {
            await _sending.WaitAsync(_giveUp.Token).ConfigureAwait(false);
            try
            {
                if (Volatile.Read(ref _clientCloseSent) == 0)
                {
                    await socket.SendAsync(message.Data.Memory, message.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary, message.EndOfMessage, _giveUp.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ConnectionAbortedException)
            {
                // The client is gone: its side notices and tells the plugin.
            }
            finally
            {
                _sending.Release();
            }
        }

        /// <summary>Sends the client this end's close, once, whichever side began it.</summary>
        private async Task CloseClientAsync(WebSocketCloseStatus status, string reason)
        {
            if (Interlocked.Exchange(ref _clientCloseSent, 1) == 1)
            {
                return;
            }

            try
            {
                await _sending.WaitAsync(_giveUp.Token).ConfigureAwait(false);
                try
                {
                    if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(status, reason, _giveUp.Token).ConfigureAwait(false);
                    }
                }
                finally
                {
                    _sending.Release();
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ConnectionAbortedException or ObjectDisposedException)
            {
                // The client is gone: there is no one left to tell.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1110, EventName = "WebSocketOpened", Level = LogLevel.Debug, Message = "Plugin {PluginId}: WebSocket {Path} open")]
        public static partial void Opened(ILogger logger, string pluginId, string path);

        [LoggerMessage(EventId = 1111, EventName = "WebSocketClosed", Level = LogLevel.Debug, Message = "Plugin {PluginId}: WebSocket {Path} ended: {How}")]
        public static partial void Closed(ILogger logger, string pluginId, string path, string how);

        [LoggerMessage(EventId = 1112, EventName = "WebSocketBadCloseStatus", Level = LogLevel.Warning, Message = "Plugin {PluginId} closed WebSocket {Path} with status {Status}, which a client may not be sent; the client was sent 1011 instead. Use 1000-1003, 1007-1014, or 3000-4999 for the plugin's own.")]
        public static partial void BadCloseStatus(ILogger logger, string pluginId, string path, int status);
    }
}
