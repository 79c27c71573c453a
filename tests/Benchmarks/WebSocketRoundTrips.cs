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
    private static readonly byte[] s_message = Encoding.UTF8.GetBytes("bench");
    private readonly ConcurrentQueue<(ClientWebSocket Socket, byte[] Buffer)> _idle = new();
    private readonly List<ClientWebSocket> _all = [];

    private WebSocketRoundTrips()
    {
    }

    public static async Task<WebSocketRoundTrips> ConnectAsync(Uri uri, int sockets)
    {
        var trips = new WebSocketRoundTrips();
        for (var i = 0; i < sockets; i++)
        {
            var socket = new ClientWebSocket();
            trips._all.Add(socket);
            await socket.ConnectAsync(uri, CancellationToken.None);
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
        await socket.SendAsync(s_message, WebSocketMessageType.Text, true, CancellationToken.None);
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
