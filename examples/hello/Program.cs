using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using GrpcPlugins.Sdk;

return await PluginRunner.RunAsync(new Hello.HelloPlugin(), args);

namespace Hello
{
    /// <summary>Rewrites request bodies, refuses the word "forbidden", answers /ping, and greets over a WebSocket at /greet.</summary>
    public sealed class HelloPlugin : IPlugin
    {
        // A case-insensitive search through SearchValues is vectorised; string.Contains with
        // OrdinalIgnoreCase compares char by char when globalization is invariant (this repository's
        // setting, and a machine without ICU), which made this check most of a 64 KiB hook call.
        private static readonly SearchValues<string> s_refused = SearchValues.Create(["forbidden"], StringComparison.OrdinalIgnoreCase);

        public string Id => "hello";

        public string Version => "1.0.0";

        public void Configure(PluginBuilder plugin)
        {
            plugin.OnHook("request", call => call.BodyText.AsSpan().ContainsAny(s_refused)
                ? HookResult.ShortCircuit(403, "hello refused this request: it says 'forbidden'")
                : HookResult.Modify(call.BodyText.Replace("hello", "HELLO from the hello plugin", StringComparison.Ordinal)));

            // It only tags responses, so it asks not to be sent their bodies (its plugin.json says the same);
            // the tag says which request and status it saw.
            plugin.OnHook("response", new HookMatch { HeadersOnly = true }, call => HookResult.SetHeaders(new Dictionary<string, string>
            {
                ["x-hello-plugin"] = Version,
                ["x-hello-saw"] = $"{call.Context.Method} {call.Context.Path} {call.Context.StatusCode}",
            }));

            plugin.MapGet("/ping", ctx => ctx.Response.WriteJsonAsync(new JsonObject
            {
                ["plugin"] = Id,
                ["version"] = Version,
                ["pid"] = Environment.ProcessId,
            }.ToJsonString()), allowAnonymous: true);

            // A WebSocket: each text message is answered with a greeting, until the client closes.
            plugin.MapWebSocket("/greet", async ws =>
            {
                // A greeting holds no secret, so the host may compress the socket (if it allows it and the client asks).
                using var socket = await ws.AcceptAsync(compress: true);
                var buffer = new byte[4096];
                while (await socket.ReceiveAsync(buffer, ws.Aborted) is { MessageType: not WebSocketMessageType.Close } got)
                {
                    var name = Encoding.UTF8.GetString(buffer, 0, got.Count);
                    await socket.SendAsync(Encoding.UTF8.GetBytes($"hello, {name}, from {Id} {Version}"), WebSocketMessageType.Text, true, ws.Aborted);
                }

                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", ws.Aborted);
            });
        }
    }
}
