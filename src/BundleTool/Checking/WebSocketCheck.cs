using System.Net.WebSockets;
using System.Text;
using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// For a plugin whose Describe says it serves WebSockets: a literal GET route of its manifest
/// opened as a WebSocket through the host. One the plugin accepts is sent a text message, then
/// closed: the check says what came back, and whether the plugin answered the close, which a
/// hand-written HandleWebSocket most often forgets. A route it refuses with a 4xx takes no
/// WebSocket: said as a skip.
/// </summary>
internal static class WebSocketCheck
{
    private static readonly TimeSpan s_answerWait = TimeSpan.FromSeconds(3);

    public static async Task<CheckResult> RunAsync(CheckHost host, string id, ManifestRoute route, TimeProvider time, CancellationToken cancellationToken)
    {
        var subject = new CheckSubject("websocket", $"GET {route.Path}");
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", host.Client.DefaultRequestHeaders.Authorization!.ToString());
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.AddSubProtocol("check");
        var uri = new UriBuilder(host.Client.BaseAddress!) { Scheme = "ws", Path = $"/plugins/{Uri.EscapeDataString(id)}{route.Path}" }.Uri;
        // The handshake waits for the plugin's accept under the route deadline, the close for the host's close timeout.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(host.Options.RouteTimeout + host.Options.WebSocketCloseTimeout + TimeSpan.FromSeconds(5));
        var began = time.GetTimestamp();
        try
        {
            await socket.ConnectAsync(uri, bound.Token).ConfigureAwait(false);
        }
        catch (WebSocketException) when ((int)socket.HttpStatusCode is >= 400 and < 500)
        {
            return CheckResult.Skip(subject, $"takes no WebSocket: the plugin refused the handshake with {(int)socket.HttpStatusCode}");
        }
        catch (WebSocketException ex)
        {
            var error = socket.HttpResponseHeaders?.TryGetValue("X-Plugin-Error", out var values) == true ? $" ({string.Join(", ", values)})" : string.Empty;
            return CheckResult.Fail(subject, $"the handshake failed: {(int)socket.HttpStatusCode}{error}, {ex.Message}; HandleWebSocket must answer the open frame with accept or refuse (docs/protocol.md)");
        }

        var accepted = $"accepted{(socket.SubProtocol is { } protocol ? $" with subprotocol {protocol}" : string.Empty)} in {time.GetElapsedTime(began).TotalMilliseconds:0.#} ms";
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes("check"), WebSocketMessageType.Text, true, bound.Token).ConfigureAwait(false);
            var buffer = new byte[4096];
            var sent = time.GetTimestamp();
            // Left pending when nothing comes back (a socket may only push): cancelling it would abort the socket.
            Task<(WebSocketMessageType Type, int Count)>? receiving = ReceiveMessageAsync(socket, buffer, bound.Token);
            string answer;
            if (await Task.WhenAny(receiving, Task.Delay(s_answerWait, time, CancellationToken.None)).ConfigureAwait(false) == receiving)
            {
                var (type, count) = await receiving.ConfigureAwait(false);
                receiving = null;
                answer = type == WebSocketMessageType.Close
                    ? $"closed by the plugin with {(int?)socket.CloseStatus} {socket.CloseStatusDescription}"
                    : $"answered {(type == WebSocketMessageType.Text ? $"'{Encoding.UTF8.GetString(buffer, 0, Math.Min(count, 60))}'" : $"{count} bytes")} in {time.GetElapsedTime(sent).TotalMilliseconds:0.#} ms";
            }
            else
            {
                answer = $"no message back within {s_answerWait.TotalSeconds:0} s";
            }

            if (socket.State == WebSocketState.CloseReceived && socket.CloseStatus is { } closedBy && (int)closedBy >= 1011)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, bound.Token).ConfigureAwait(false);
                return CheckResult.Fail(subject, $"{accepted}; then the socket was closed with {(int)closedBy}: {socket.CloseStatusDescription}");
            }

            var closing = time.GetTimestamp();
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "check", bound.Token).ConfigureAwait(false);
            }

            while (socket.State == WebSocketState.CloseSent)
            {
                // Messages still on their way before the plugin's close are read and dropped.
                _ = await (receiving ?? ReceiveMessageAsync(socket, buffer, bound.Token)).ConfigureAwait(false);
                receiving = null;
            }

            if (socket.CloseStatusDescription == Host.Routes.WebSockets.WebSocketExchange.UnansweredClose)
            {
                return CheckResult.Fail(subject, $"{accepted}, {answer}; the plugin did not answer the host's close within {host.Options.WebSocketCloseTimeout.TotalSeconds:0.#} s (PluginHost:WebSocketCloseTimeout): answer a close frame with yours, then end the call (docs/protocol.md, HandleWebSocket)");
            }

            return CheckResult.Pass(subject, $"{accepted}, {answer}; closed with {(int?)socket.CloseStatus} in {time.GetElapsedTime(closing).TotalMilliseconds:0.#} ms");
        }
        catch (Exception ex) when (ex is WebSocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return CheckResult.Fail(subject, $"{accepted}; then the socket broke: {ex.Message}");
        }
    }

    /// <summary>One whole message (or the close), its pieces read into <paramref name="buffer"/> as far as it holds them.</summary>
    private static async Task<(WebSocketMessageType Type, int Count)> ReceiveMessageAsync(ClientWebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var received = 0;
        byte[]? rest = null;
        while (true)
        {
            // Past what the buffer holds, the rest is read and dropped: only the message's start is said.
            var into = received < buffer.Length ? buffer.AsMemory(received) : (rest ??= new byte[16 * 1024]);
            var got = await socket.ReceiveAsync(into, cancellationToken).ConfigureAwait(false);
            received += got.Count;
            if (got.EndOfMessage || got.MessageType == WebSocketMessageType.Close)
            {
                return (got.MessageType, Math.Min(received, buffer.Length));
            }
        }
    }
}
