using System.Buffers;
using System.Net.WebSockets;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Routes.WebSockets;

/// <summary>
/// One accepted socket: the client's side relayed up, the plugin's relayed down, until both
/// have closed; once either begins to close, the other has the close timeout to follow.
/// </summary>
internal sealed partial class WebSocketExchange(PluginWebSocketRelay relay, string id, string path, PluginSupervisor supervisor, Worker worker, WebSocket socket, AsyncDuplexStreamingCall<WebSocketClientFrame, WebSocketServerFrame> call, CancellationTokenSource callCancel) : IDisposable
{
    /// <summary>The reason a client is sent when the plugin never answered its close (the check looks for it).</summary>
    internal const string UnansweredClose = "the plugin did not answer the close";

    /// <summary>What one read of the client's side takes: a message larger comes to the plugin in pieces of this size.</summary>
    private const int ReceiveBufferBytes = 16 * 1024;

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
            if (socket.State == WebSocketState.CloseReceived)
            {
                // The client closed and the plugin never answered: the client still gets its answer,
                // unless it stopped reading too.
                await Task.WhenAny(CloseClientAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, UnansweredClose), Task.Delay(TimeSpan.FromSeconds(1), relay.Time)).ConfigureAwait(false);
            }

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

    private static partial class Log
    {
        [LoggerMessage(EventId = 1112, EventName = "WebSocketBadCloseStatus", Level = LogLevel.Warning, Message = "Plugin {PluginId} closed WebSocket {Path} with status {Status}, which a client may not be sent; the client was sent 1011 instead. Use 1000-1003, 1007-1014, or 3000-4999 for the plugin's own.")]
        public static partial void BadCloseStatus(ILogger logger, string pluginId, string path, int status);
    }
}
