using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using GrpcPlugins.Sdk;

namespace TestPlugin;

/// <summary>The test plugin's WebSocket routes: an echo that also obeys a few text commands, and handshakes answered badly.</summary>
internal static class WebSocketRoutes
{
    private static string _lastClose = "none";

    public static void Map(PluginBuilder plugin)
    {
        plugin.MapWebSocket("/ws/echo", ws => EchoAsync(ws, compress: false));
        plugin.MapWebSocket("/ws/deflate", ws => EchoAsync(ws, compress: true));
        plugin.MapWebSocket("/ws/refuse", ws => ws.RefuseAsync(403, "this socket is not for you"));
        plugin.MapWebSocket("/ws/forget", _ => Task.CompletedTask);
        plugin.MapWebSocket("/ws/throw-after-accept", async ws =>
        {
            await ws.AcceptAsync();
            throw new InvalidOperationException("failed after accepting, on purpose");
        });

        // Accepts, then neither reads nor closes, ignoring every token: a plugin the host must not wait for.
        plugin.MapWebSocket("/ws/deaf", async ws =>
        {
            await ws.AcceptAsync();
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
        });

        // What the echo's last socket was told by the host when it ended: its close status and reason.
        plugin.MapGet("/ws/last-close", ctx => ctx.Response.WriteAsync(Volatile.Read(ref _lastClose), ctx.Aborted));
    }

    private static async Task EchoAsync(WebSocketRouteContext ws, bool compress)
    {
        using var socket = await ws.AcceptAsync(ws.SubProtocols.Contains("chat") ? "chat" : null, compress);
        var buffer = new byte[8 * 1024];
        var message = new MemoryStream();
        while (true)
        {
            var got = await socket.ReceiveAsync(buffer, ws.Aborted);
            if (got.MessageType == WebSocketMessageType.Close)
            {
                Volatile.Write(ref _lastClose, $"{(int?)got.CloseStatus} {got.CloseStatusDescription}");
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(got.CloseStatus ?? WebSocketCloseStatus.NormalClosure, got.CloseStatusDescription, ws.Aborted);
                }

                return;
            }

            message.Write(buffer, 0, got.Count);
            if (!got.EndOfMessage)
            {
                continue;
            }

            var bytes = message.ToArray();
            message.SetLength(0);
            var text = got.MessageType == WebSocketMessageType.Text ? Encoding.UTF8.GetString(bytes) : null;
            switch (text)
            {
                case "close-me":
                    // Closes first and waits for the client's answer, as a server ending a session does.
                    await socket.CloseAsync((WebSocketCloseStatus)4001, "asked to", ws.Aborted);
                    Volatile.Write(ref _lastClose, $"{(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
                    return;
                case "crash":
                    Environment.Exit(12);
                    return;
                case "whoami":
                    var who = new JsonObject { ["user"] = ws.Request.User, ["tenant"] = ws.Request.TenantId, ["path"] = ws.Request.Path, ["query"] = ws.Request.Query, ["subProtocol"] = socket.SubProtocol, ["pid"] = Environment.ProcessId };
                    var headers = new JsonArray([.. ws.Request.Headers.Select(h => (JsonNode)h.Key)]);
                    who["headers"] = headers;
                    await socket.SendAsync(Encoding.UTF8.GetBytes(who.ToJsonString()), WebSocketMessageType.Text, true, ws.Aborted);
                    break;
                case { } when text.StartsWith("big:", StringComparison.Ordinal):
                    // One send larger than any one message between host and plugin: the Sdk cuts it into pieces.
                    var size = int.Parse(text.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
                    await socket.SendAsync(Enumerable.Range(0, size).Select(i => (byte)(i % 251)).ToArray(), WebSocketMessageType.Binary, true, ws.Aborted);
                    break;
                default:
                    await socket.SendAsync(bytes, got.MessageType, true, ws.Aborted);
                    break;
            }
        }
    }
}
