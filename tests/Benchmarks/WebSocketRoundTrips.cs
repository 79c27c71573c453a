using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// Open WebSockets to one echoing path, each used by one caller at a time: a round trip
/// sends a short text message and reads the whole answer, as a chat client would.
/// </summary>
internal sealed class WebSocketRoundTrips : IAsyncDisposable
{
    private static readonly byte[] s_short = Encoding.UTF8.GetBytes("bench");
    private readonly ConcurrentQueue<(ClientWebSocket Socket, byte[] Buffer)> _idle = new();
    private readonly List<ClientWebSocket> _all = [];
    private readonly byte[] _message;

    private WebSocketRoundTrips(byte[] message)
    {
        _message = message;
    }

    /// <summary>A message of 1 KiB (1,026 bytes; about 160 deflated) as a live view sends it: JSON whose names repeat, the kind compression is for.</summary>
    public static byte[] JsonMessage { get; } = Encoding.UTF8.GetBytes(
        "[" + string.Join(",", Enumerable.Range(0, 23).Select(i => $$"""{"id":{{1000 + i}},"name":"item {{i}}","state":"ready"}""")) + "]");

    /// <summary>Opens the sockets; <paramref name="deflate"/> offers permessage-deflate in each handshake, which fails the run if the host does not agree.</summary>
    public static async Task<WebSocketRoundTrips> ConnectAsync(Uri uri, int sockets, byte[]? message = null, bool deflate = false)
    {
        var trips = new WebSocketRoundTrips(message ?? s_short);
        for (var i = 0; i < sockets; i++)
        {
            var socket = new ClientWebSocket();
            trips._all.Add(socket);
            if (deflate)
            {
                socket.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
                socket.Options.CollectHttpResponseDetails = true;
            }

            await socket.ConnectAsync(uri, CancellationToken.None);
            if (deflate && socket.HttpResponseHeaders?.Keys.Any(k => k.Equals("Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase)) != true)
            {
                throw new InvalidOperationException($"{uri} did not agree to permessage-deflate");
            }

            trips._idle.Enqueue((socket, new byte[4096]));
        }

        return trips;
    }

    public async Task RoundTripAsync()
    {
        if (!_idle.TryDequeue(out var taken))
        {
            throw new InvalidOperationException("more callers than sockets");
        }

        var (socket, buffer) = taken;
        await socket.SendAsync(_message, WebSocketMessageType.Text, true, CancellationToken.None);
        WebSocketReceiveResult got;
        do
        {
            got = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (got.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"the socket closed: {got.CloseStatus} {got.CloseStatusDescription}");
            }
        }
        while (!got.EndOfMessage);

        _idle.Enqueue(taken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _all)
        {
            if (socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }

            socket.Dispose();
        }
    }
}
