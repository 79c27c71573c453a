using System.Net.WebSockets;
using Grpc.Core;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Sdk.WebSockets;

/// <summary>
/// One HandleWebSocket call on the plugin's side: the handshake's answer (accept or
/// refuse, once), then the socket, then the call's end as the handler left it.
/// </summary>
internal sealed class WebSocketSession(IAsyncStreamReader<WebSocketClientFrame> frames, IServerStreamWriter<WebSocketServerFrame> writer, Server.WorkerLifetime lifetime, CancellationToken aborted)
{
    private int _answered;

    /// <summary>The call's end, or the worker's stop.</summary>
    public CancellationToken Aborted => aborted;

    public GrpcWebSocket? Socket { get; private set; }

    public async Task<WebSocket> AcceptAsync(string? subProtocol, bool compress)
    {
        Answer();
        await writer.WriteAsync(new WebSocketServerFrame { Accept = new WebSocketAccept { SubProtocol = subProtocol ?? string.Empty, Compress = compress } }, aborted).ConfigureAwait(false);
        lifetime.SocketOpened();
        return Socket = new GrpcWebSocket(frames, writer, subProtocol, aborted);
    }

    public Task RefuseAsync(int statusCode, string reason)
    {
        Answer();
        return writer.WriteAsync(new WebSocketServerFrame { Refuse = new WebSocketRefusal { StatusCode = statusCode, Reason = reason } }, aborted);
    }

    private void Answer()
    {
        if (Interlocked.Exchange(ref _answered, 1) == 1)
        {
            throw new InvalidOperationException("This WebSocket was already accepted or refused; answer a handshake once.");
        }
    }

    /// <summary>
    /// Ends the call once the handler returned: a handshake left unanswered is refused with 500,
    /// a socket left open is closed (1000 after a normal return, 1011 after a failure, 1001 when
    /// the worker is stopping), and the host's side is read to its end.
    /// </summary>
    public async Task FinishAsync(Exception? failure, CancellationToken callEnded)
    {
        if (Volatile.Read(ref _answered) == 0)
        {
            var reason = failure is null
                ? "the plugin's handler returned without accepting or refusing the WebSocket"
                : $"the plugin's handler failed before it accepted the WebSocket: {failure.GetType().Name}: {failure.Message}";
            await writer.WriteAsync(new WebSocketServerFrame { Refuse = new WebSocketRefusal { StatusCode = 500, Reason = reason } }, callEnded).ConfigureAwait(false);
            return;
        }

        if (Socket is not { } socket)
        {
            return;
        }

        try
        {
            var (status, why) = lifetime.Stopping.IsCancellationRequested
                ? (WebSocketCloseStatus.EndpointUnavailable, "the plugin is stopping")
                : failure is not null
                    ? (WebSocketCloseStatus.InternalServerError, $"the plugin's handler failed: {failure.GetType().Name}")
                    : (WebSocketCloseStatus.NormalClosure, string.Empty);
            await socket.SendFinalCloseAsync(status, why, callEnded).ConfigureAwait(false);
            lifetime.SocketCloseSent();
            await socket.DrainAsync(callEnded).ConfigureAwait(false);
        }
        finally
        {
            socket.Dispose();
            socket.Release();
        }
    }
}
