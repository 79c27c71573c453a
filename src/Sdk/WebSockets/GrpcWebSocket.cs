using System.Net.WebSockets;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Sdk.WebSockets;

/// <summary>
/// A <see cref="WebSocket"/> over one HandleWebSocket call: the host speaks the
/// WebSocket protocol to the client, this end speaks the call's frames, so a
/// handler uses the type every .NET WebSocket library takes. One receive and one
/// send may run at once, as with any WebSocket.
/// </summary>
internal sealed class GrpcWebSocket(IAsyncStreamReader<WebSocketClientFrame> frames, IServerStreamWriter<WebSocketServerFrame> writer, string? subProtocol, CancellationToken aborted) : WebSocket
{
    /// <summary>
    /// A message sent whole is cut into pieces of this size: one gRPC message may carry 16 MiB at
    /// most, and the host passes each piece on as it comes, so the client gets a large message as it is sent.
    /// </summary>
    internal const int MaxPieceBytes = 64 * 1024;

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _abort = CancellationTokenSource.CreateLinkedTokenSource(aborted);
    private WebSocketMessage? _piece;
    private int _offset;
    private int _receiving;
    private bool _closeSent;
    private WebSocketState _state = WebSocketState.Open;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;

    public override WebSocketCloseStatus? CloseStatus => _closeStatus;

    public override string? CloseStatusDescription => _closeDescription;

    public override WebSocketState State => _state;

    public override string? SubProtocol => subProtocol;

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        ThrowUnless("receive", WebSocketState.Open, WebSocketState.CloseSent);
        if (Interlocked.Exchange(ref _receiving, 1) == 1)
        {
            throw new InvalidOperationException("A receive is already in progress on this WebSocket; wait for it before the next.");
        }

        try
        {
            if (_piece is null)
            {
                var frame = await NextFrameAsync(cancellationToken).ConfigureAwait(false);
                if (frame.FrameCase == WebSocketClientFrame.FrameOneofCase.Close)
                {
                    var status = frame.Close.Status == 0 ? WebSocketCloseStatus.Empty : (WebSocketCloseStatus)frame.Close.Status;
                    lock (_gate)
                    {
                        (_closeStatus, _closeDescription) = (status, frame.Close.Description);
                        _state = _state == WebSocketState.CloseSent ? WebSocketState.Closed : WebSocketState.CloseReceived;
                    }

                    return new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, status, frame.Close.Description);
                }

                (_piece, _offset) = (frame.Message, 0);
            }

            var piece = _piece;
            var count = Math.Min(piece.Data.Length - _offset, buffer.Count);
            piece.Data.Span.Slice(_offset, count).CopyTo(buffer.AsSpan());
            _offset += count;
            var whole = _offset == piece.Data.Length;
            if (whole)
            {
                _piece = null;
            }

            return new WebSocketReceiveResult(count, piece.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary, whole && piece.EndOfMessage);
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
        }
    }

    private async Task<WebSocketClientFrame> NextFrameAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
        bool more;
        try
        {
            more = await frames.MoveNext(linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException)
        {
            // As a framework WebSocket does: a receive that is cancelled or breaks leaves the socket aborted.
            Abort();
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The host ended the WebSocket without a closing handshake (the client went away, or the worker is stopping).", ex);
        }

        if (!more)
        {
            Abort();
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The host ended the WebSocket without a closing handshake.");
        }

        var frame = frames.Current;
        if (frame.FrameCase is not (WebSocketClientFrame.FrameOneofCase.Message or WebSocketClientFrame.FrameOneofCase.Close))
        {
            Abort();
            throw new WebSocketException(WebSocketError.InvalidMessageType, $"The host sent a {frame.FrameCase} frame on an open WebSocket; only message and close may follow open.");
        }

        return frame;
    }

    public override async Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (messageType == WebSocketMessageType.Close)
        {
            throw new ArgumentException("Close with CloseAsync or CloseOutputAsync, not with a Close message.", nameof(messageType));
        }

        ThrowUnless("send", WebSocketState.Open, WebSocketState.CloseReceived);
        var data = buffer.AsMemory();
        do
        {
            var piece = data[..Math.Min(data.Length, MaxPieceBytes)];
            data = data[piece.Length..];
            var message = new WebSocketMessage { Data = ByteString.CopyFrom(piece.Span), Text = messageType == WebSocketMessageType.Text, EndOfMessage = endOfMessage && data.IsEmpty };
            await WriteAsync(new WebSocketServerFrame { Message = message }, cancellationToken).ConfigureAwait(false);
        }
        while (!data.IsEmpty);
    }

    public override async Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        if (closeStatus == WebSocketCloseStatus.Empty || (int)closeStatus is < 1000 or > 4999)
        {
            throw new ArgumentException($"{(int)closeStatus} is not a status a WebSocket may close with: use 1000 to 1014, or 3000 to 4999 for the application's own.", nameof(closeStatus));
        }

        ThrowUnless("close", WebSocketState.Open, WebSocketState.CloseReceived);
        await WriteAsync(new WebSocketServerFrame { Close = new WebSocketClose { Status = (int)closeStatus, Description = statusDescription ?? string.Empty } }, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _closeSent = true;
            _state = _state == WebSocketState.CloseReceived ? WebSocketState.Closed : WebSocketState.CloseSent;
        }
    }

    /// <summary>
    /// Sends this end's close if it has not, whatever the socket's state: the session's last word
    /// for a handler that left without one, its socket aborted by a cancelled receive included.
    /// </summary>
    public async Task SendFinalCloseAsync(WebSocketCloseStatus closeStatus, string statusDescription, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_closeSent)
            {
                return;
            }

            _closeSent = true;
        }

        try
        {
            await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await writer.WriteAsync(new WebSocketServerFrame { Close = new WebSocketClose { Status = (int)closeStatus, Description = statusDescription } }, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _sending.Release();
            }
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or OperationCanceledException)
        {
            // The call ended under it: the host has nothing left to tell.
        }
    }

    public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        await CloseOutputAsync(closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        var discard = new byte[4096];
        while (State == WebSocketState.CloseSent)
        {
            // Messages still on their way before the client's close are dropped, as a framework WebSocket drops them.
            await ReceiveAsync(discard, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads to the end of the host's side, so that the call ends cleanly; skipped while a receive of the handler's still runs.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _receiving, 1) == 1)
        {
            return;
        }

        try
        {
            while (await frames.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                // After the close handshake nothing is left to read but the end.
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException)
        {
            // The host dropped the call; nothing is left to drain.
        }
    }

    public override void Abort()
    {
        lock (_gate)
        {
            if (_state != WebSocketState.Closed)
            {
                _state = WebSocketState.Aborted;
            }
        }

        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed already: nothing is waiting.
        }
    }

    /// <summary>
    /// Aborts a socket not closed yet, as a framework WebSocket does; what it holds is released
    /// by its session (<see cref="Release"/>), which still sends the close a handler that
    /// disposed its socket on the way out did not.
    /// </summary>
    public override void Dispose()
    {
        if (_state != WebSocketState.Closed)
        {
            Abort();
        }
    }

    /// <summary>Releases what the socket holds, once its session has ended the call.</summary>
    public void Release()
    {
        _abort.Dispose();
        _sending.Dispose();
    }

    private async Task WriteAsync(WebSocketServerFrame frame, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
        await _sending.WaitAsync(linked.Token).ConfigureAwait(false);
        try
        {
            await writer.WriteAsync(frame, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Abort();
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The WebSocket's call to the host ended (the client went away, or the worker is stopping).", ex);
        }
        finally
        {
            _sending.Release();
        }
    }

    private void ThrowUnless(string what, WebSocketState one, WebSocketState other)
    {
        var state = _state;
        if (state != one && state != other)
        {
            throw new WebSocketException(WebSocketError.InvalidState, $"Cannot {what}: the WebSocket is {state}.");
        }
    }
}
