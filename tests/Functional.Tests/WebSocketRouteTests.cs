using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>WebSockets on plugin routes: relayed through the host to a real worker, closed as either end asks, bounded, and never wedging the host.</summary>
public sealed class WebSocketRouteTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    private static Task<TestHost> StartAsync(Action<PluginHostOptions>? configure = null, bool useWebSockets = true) =>
        TestHost.StartAsync([PluginFolders.Test("t")], configure, mapApplication: useWebSockets ? app => app.UseWebSockets() : null);

    private static Uri SocketUri(TestHost host, string path) =>
        new UriBuilder(host.Admin.BaseAddress!) { Scheme = "ws", Path = path }.Uri;

    /// <summary>A client with the admin key that keeps the handshake's answer (status and headers) to be read.</summary>
    private static ClientWebSocket AdminClient()
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Api-Key", TestHost.AdminKey);
        socket.Options.CollectHttpResponseDetails = true;
        return socket;
    }

    private static Task<ClientWebSocket> ConnectAsync(TestHost host, string path, params string[] subProtocols)
    {
        var socket = AdminClient();
        foreach (var protocol in subProtocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }

        return OpenAsync(socket, host, path);
    }

    private static async Task<ClientWebSocket> OpenAsync(ClientWebSocket socket, TestHost host, string path)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        await socket.ConnectAsync(SocketUri(host, path), timeout.Token);
        return socket;
    }

    private static async Task<(WebSocketMessageType Type, byte[] Data, WebSocketReceiveResult Last)> ReceiveWholeAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        var buffer = new byte[4096];
        using var message = new MemoryStream();
        while (true)
        {
            var got = await socket.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, got.Count);
            if (got.EndOfMessage || got.MessageType == WebSocketMessageType.Close)
            {
                return (got.MessageType, message.ToArray(), got);
            }
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var start = DateTime.UtcNow;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow - start < s_wait, $"waited {s_wait.TotalSeconds} s for {what}");
            await Task.Delay(50);
        }
    }

    private static async Task AssertANewSocketEchoesAsync(TestHost host, string text)
    {
        using var socket = await ConnectAsync(host, "/plugins/t/ws/echo");
        await SendTextAsync(socket, text);
        Assert.Equal(text, Encoding.UTF8.GetString((await ReceiveWholeAsync(socket)).Data));
    }

    private static Task SendTextAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonElement> WebSocketsViewAsync(TestHost host) =>
        (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t")).GetProperty("webSockets");

    [Fact]
    public async Task AWebSocketRoute_RelaysTextAndFragmentedBinaryMessages_BothWays_ThenClosesCleanly()
    {
        await using var host = await StartAsync();
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var socket = await ConnectAsync(host, "/plugins/t/ws/echo", "other", "chat");
        Assert.Equal("chat", socket.SubProtocol);

        await SendTextAsync(socket, "hello");
        var echoed = await ReceiveWholeAsync(socket);
        Assert.Equal(WebSocketMessageType.Text, echoed.Type);
        Assert.Equal("hello", Encoding.UTF8.GetString(echoed.Data));

        // 200 KB sent in three fragments comes back whole: more than the host reads at once, and more than one message between host and plugin.
        var big = new byte[200_000];
        Random.Shared.NextBytes(big);
        await socket.SendAsync(big.AsMemory(0, 50_000), WebSocketMessageType.Binary, false, CancellationToken.None);
        await socket.SendAsync(big.AsMemory(50_000, 100_000), WebSocketMessageType.Binary, false, CancellationToken.None);
        await socket.SendAsync(big.AsMemory(150_000), WebSocketMessageType.Binary, true, CancellationToken.None);
        echoed = await ReceiveWholeAsync(socket);
        Assert.Equal(WebSocketMessageType.Binary, echoed.Type);
        Assert.Equal(big, echoed.Data);

        // One send of 300 KB by the plugin: the Sdk cuts it into pieces the host's channel takes.
        await SendTextAsync(socket, "big:300000");
        echoed = await ReceiveWholeAsync(socket);
        Assert.Equal(300_000, echoed.Data.Length);
        Assert.Equal(Enumerable.Range(0, 300_000).Select(i => (byte)(i % 251)), echoed.Data);

        // The plugin sees the route's request as any route does, without the handshake's own headers.
        await SendTextAsync(socket, "whoami");
        var who = JsonDocument.Parse((await ReceiveWholeAsync(socket)).Data).RootElement;
        Assert.Equal("admin", who.GetProperty("user").GetString());
        Assert.Equal("/ws/echo", who.GetProperty("path").GetString());
        Assert.Equal("chat", who.GetProperty("subProtocol").GetString());
        var headers = who.GetProperty("headers").EnumerateArray().Select(h => h.GetString()!).ToList();
        Assert.DoesNotContain(headers, h => h.StartsWith("sec-websocket-", StringComparison.Ordinal));
        Assert.DoesNotContain("x-api-key", headers);
        Assert.Contains("x-forwarded-prefix", headers);

        // An open socket is shown and measured, and holds no call place.
        var view = await WebSocketsViewAsync(host);
        Assert.Equal(1, view.GetProperty("open").GetInt32());
        Assert.Equal(1000, view.GetProperty("limit").GetInt32());
        Assert.Equal(0, host.Supervisor("t").InFlight);
        Assert.Matches("""plugin_websockets_open\{[^}]*plugin="t"[^}]*\} 1\b""", await host.Admin.GetStringAsync("/metrics"));

        using var timeout = new CancellationTokenSource(s_wait);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal("1000 bye", await host.Admin.GetStringAsync("/plugins/t/ws/last-close"));
        await UntilAsync(async () => (await WebSocketsViewAsync(host)).GetProperty("open").GetInt32() == 0, "the closed socket to leave the count");
        Assert.Equal(1, (await WebSocketsViewAsync(host)).GetProperty("opened").GetInt64());
    }

    [Fact]
    public async Task APluginAskingForCompression_GetsItWhereTheHostAllowsAndTheClientOffers_AndTheLimitCountsInflatedBytes()
    {
        var text = string.Concat(Enumerable.Repeat("a line a client sends again and again\n", 1_500));
        await using (var host = await StartAsync())
        {
            await host.WaitForStateAsync("t", WorkerState.Ready);
            // The host does not allow it by default: the socket opens uncompressed, and works.
            using var socket = await ConnectDeflatingAsync(host, "/plugins/t/ws/deflate");
            Assert.Equal(string.Empty, Extensions(socket));
            await SendTextAsync(socket, text);
            Assert.Equal(text, Encoding.UTF8.GetString((await ReceiveWholeAsync(socket)).Data));
        }

        await using (var host = await StartAsync(o => (o.AllowWebSocketCompression, o.MaxWebSocketMessageBytes) = (true, 100_000)))
        {
            await host.WaitForStateAsync("t", WorkerState.Ready);
            using var deflated = await ConnectDeflatingAsync(host, "/plugins/t/ws/deflate");
            Assert.StartsWith("permessage-deflate", Extensions(deflated), StringComparison.Ordinal);
            Assert.Contains("server_no_context_takeover", Extensions(deflated), StringComparison.Ordinal);
            await SendTextAsync(deflated, text);
            Assert.Equal(text, Encoding.UTF8.GetString((await ReceiveWholeAsync(deflated)).Data));

            // A route whose plugin does not ask stays uncompressed, though the client offered.
            using (var plain = await ConnectDeflatingAsync(host, "/plugins/t/ws/echo"))
            {
                Assert.Equal(string.Empty, Extensions(plain));
            }

            // The admin sees what the host pays for: of the sockets opened, how many compress.
            var view = await WebSocketsViewAsync(host);
            Assert.Equal(2, view.GetProperty("opened").GetInt64());
            Assert.Equal(1, view.GetProperty("compressed").GetInt64());

            // A megabyte of zeros is a kilobyte or so on the wire, and still ten times the limit.
            await deflated.SendAsync(new byte[1_000_000], WebSocketMessageType.Binary, true, CancellationToken.None);
            var closed = await ReceiveWholeAsync(deflated);
            Assert.Equal(WebSocketCloseStatus.MessageTooBig, closed.Last.CloseStatus);
            Assert.Contains("100000 bytes at most", closed.Last.CloseStatusDescription, StringComparison.Ordinal);
        }
    }

    private static Task<ClientWebSocket> ConnectDeflatingAsync(TestHost host, string path)
    {
        var socket = AdminClient();
        socket.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        return OpenAsync(socket, host, path);
    }

    /// <summary>The extensions the host agreed to in its handshake answer, or empty for none.</summary>
    private static string Extensions(ClientWebSocket socket) =>
        string.Join(", ", socket.HttpResponseHeaders!.Where(h => h.Key.Equals("Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase)).SelectMany(h => h.Value));

    [Fact]
    public async Task APluginThatClosesFirst_HasItsStatusAndReasonRelayed_AndHearsTheClientsAnswer()
    {
        await using var host = await StartAsync();
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var socket = await ConnectAsync(host, "/plugins/t/ws/echo");

        await SendTextAsync(socket, "close-me");
        var closed = await ReceiveWholeAsync(socket);

        Assert.Equal(WebSocketMessageType.Close, closed.Type);
        Assert.Equal(4001, (int?)closed.Last.CloseStatus);
        Assert.Equal("asked to", closed.Last.CloseStatusDescription);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);
        await UntilAsync(async () => await host.Admin.GetStringAsync("/plugins/t/ws/last-close") == "1000 ok", "the plugin to hear the client's close");
    }

    [Fact]
    public async Task AClientMessageOverTheLimit_ClosesTheSocketWith1009_AndThePluginIsToldTheSame()
    {
        await using var host = await StartAsync(o => o.MaxWebSocketMessageBytes = 10_000);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var socket = await ConnectAsync(host, "/plugins/t/ws/echo");

        // Within the limit, in pieces, it passes; over it, counted across pieces, it does not.
        await socket.SendAsync(new byte[6_000], WebSocketMessageType.Binary, false, CancellationToken.None);
        await socket.SendAsync(new byte[4_000], WebSocketMessageType.Binary, true, CancellationToken.None);
        Assert.Equal(10_000, (await ReceiveWholeAsync(socket)).Data.Length);
        await socket.SendAsync(new byte[6_000], WebSocketMessageType.Binary, false, CancellationToken.None);
        await socket.SendAsync(new byte[6_000], WebSocketMessageType.Binary, true, CancellationToken.None);
        var closed = await ReceiveWholeAsync(socket);

        Assert.Equal(WebSocketMessageType.Close, closed.Type);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, closed.Last.CloseStatus);
        Assert.Contains("10000 bytes at most", closed.Last.CloseStatusDescription, StringComparison.Ordinal);
        await UntilAsync(async () => (await host.Admin.GetStringAsync("/plugins/t/ws/last-close")).StartsWith("1009 ", StringComparison.Ordinal), "the plugin to be told 1009");
    }

    [Theory]
    [InlineData("/plugins/t/ws/refuse", HttpStatusCode.Forbidden, "this socket is not for you")]
    [InlineData("/plugins/t/ws/forget", HttpStatusCode.InternalServerError, "returned without accepting or refusing")]
    [InlineData("/plugins/t/ws/nowhere", HttpStatusCode.NotFound, "takes no WebSocket at /ws/nowhere")]
    public async Task AHandshakeThePluginDoesNotAccept_IsAnsweredWithItsStatusAndWhy(string path, HttpStatusCode status, string why)
    {
        await using var host = await StartAsync();
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var socket = AdminClient();

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(SocketUri(host, path), CancellationToken.None));

        Assert.Equal(status, socket.HttpStatusCode);
        // The same request without the upgrade says why in the problem's detail (and a plain GET of a socket route is 426).
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        var plain = await host.Admin.SendAsync(request);
        Assert.Equal(path.EndsWith("nowhere", StringComparison.Ordinal) ? HttpStatusCode.NotFound : (HttpStatusCode)426, plain.StatusCode);
        Assert.Equal(0, host.Supervisor("t").InFlight);
        Assert.Contains(why, await RefusalDetailAsync(host, path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheHostsRouteHooks_SeeAHandshakeAndARefusal_ButLeaveAnAcceptedSocketAlone()
    {
        var inbound = new HookPoint("audit", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2));
        var outbound = new HookPoint("response", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2));
        await using var host = await TestHost.StartAsync(
            [PluginFolders.Hello(), AuditLinesPlugin(), PluginFolders.Test("t")],
            o => o.PluginRouteHooks = new EndpointHooks { Inbound = inbound, Outbound = outbound },
            mapApplication: app => app.UseWebSockets());
        await Task.WhenAll(host.WaitForStateAsync("hello", WorkerState.Ready), host.WaitForStateAsync("lines", WorkerState.Ready), host.WaitForStateAsync("t", WorkerState.Ready));

        using (var socket = await ConnectAsync(host, "/plugins/t/ws/echo"))
        {
            // The handshake went through the inbound point: the header a hook set reached the plugin with it.
            await SendTextAsync(socket, "whoami");
            var who = JsonDocument.Parse((await ReceiveWholeAsync(socket)).Data).RootElement;
            Assert.Contains("x-request-line", who.GetProperty("headers").EnumerateArray().Select(h => h.GetString()));

            // An accepted socket is no response for the outbound point: it relays and closes as without hooks.
            Assert.Equal(HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
            Assert.False(socket.HttpResponseHeaders!.ContainsKey("x-hello-plugin"));
            await SendTextAsync(socket, "after the hooks");
            Assert.Equal("after the hooks", Encoding.UTF8.GetString((await ReceiveWholeAsync(socket)).Data));
            using var timeout = new CancellationTokenSource(s_wait);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        }

        // A refusal is an HTTP answer like any other: it goes out through the outbound point.
        using var refused = AdminClient();
        await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(SocketUri(host, "/plugins/t/ws/refuse"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, refused.HttpStatusCode);
        Assert.Equal("1.0.0", Assert.Single(refused.HttpResponseHeaders!["x-hello-plugin"]));

        // The socket's end is the route's end: the host logged no error for it (checked as the host stops) and the worker serves on.
        await UntilAsync(async () => (await WebSocketsViewAsync(host)).GetProperty("open").GetInt32() == 0, "the socket to be counted closed");
        await AssertANewSocketEchoesAsync(host, "still here");
    }

    [Fact]
    public async Task AnInboundRouteHookThatTakesBodies_DoesNotHoldAHandshake_WhoseBodyIsTheUpgradedConnection()
    {
        // The test plugin's own request hook takes bodies (it appends its id): a handshake has none
        // to give, and reading one must not wait on the connection the socket will take over.
        await using var host = await StartAsync(o => o.PluginRouteHooks = new EndpointHooks { Inbound = TestHost.Request });
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var socket = await ConnectAsync(host, "/plugins/t/ws/echo");
        await SendTextAsync(socket, "through a body hook");

        Assert.Equal("through a body hook", Encoding.UTF8.GetString((await ReceiveWholeAsync(socket)).Data));
        using var timeout = new CancellationTokenSource(s_wait);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        // The hook was called for the handshake, and answered with its body.
        var metrics = await host.Admin.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("plugin_hook_calls_total{", StringComparison.Ordinal) && l.Contains("plugin=\"t\"", StringComparison.Ordinal) && l.Contains("outcome=\"Modify\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWebSocketAskedOverHttp2_IsTheGetItsRouteDeclares_ForTheManifestAndForAHookMatchedOnGet()
    {
        // hello's headers-only response hook at the outbound point: an accepted socket leaves it nothing to see over HTTP/2 too.
        await using var host = await TestHost.StartAsync(
            [AuditLinesPlugin(), PluginFolders.Hello(), PluginFolders.Test("t")],
            o => o.PluginRouteHooks = new EndpointHooks
            {
                Inbound = new HookPoint("audit", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2)),
                Outbound = new HookPoint("response", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2)),
            },
            mapApplication: app => app.UseWebSockets(),
            services: s => s.Configure<KestrelServerOptions>(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2)));
        await Task.WhenAll(host.WaitForStateAsync("lines", WorkerState.Ready), host.WaitForStateAsync("hello", WorkerState.Ready), host.WaitForStateAsync("t", WorkerState.Ready));
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var socket = AdminClient();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var timeout = new CancellationTokenSource(s_wait);

        // An extended CONNECT (RFC 8441), answered 200 where HTTP/1.1 answers 101.
        await socket.ConnectAsync(SocketUri(host, "/plugins/t/ws/echo"), invoker, timeout.Token);
        await SendTextAsync(socket, "whoami");
        var who = JsonDocument.Parse((await ReceiveWholeAsync(socket)).Data).RootElement;
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        Assert.Equal(HttpStatusCode.OK, socket.HttpStatusCode);
        Assert.False(socket.HttpResponseHeaders!.ContainsKey("x-hello-plugin"));
        Assert.Contains("x-request-line", who.GetProperty("headers").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    /// <summary>A plugin whose headers-only hook at "audit", for GET requests only, sets x-request-line.</summary>
    private static JsonObject AuditLinesPlugin()
    {
        var lines = PluginFolders.Test("lines", "normal", "--request-line-hook", "audit", "GET");
        lines["hooks"] = new JsonArray("request", new JsonObject { ["point"] = "audit", ["match"] = new JsonObject { ["methods"] = new JsonArray("GET"), ["headersOnly"] = true } });
        return lines;
    }

    /// <summary>A handshake made by hand, to read the problem the host answers with.</summary>
    private static async Task<string> RefusalDetailAsync(TestHost host, string path)
    {
        using var client = new HttpClient { BaseAddress = host.Admin.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", TestHost.AdminKey);
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));
        var response = await client.SendAsync(request);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task AHandlerThatFailsAfterAccepting_ClosesTheClientWith1011_AndTheWorkerServesOn()
    {
        await using var host = await StartAsync();
        host.ExpectErrors = true;
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var pid = host.Supervisor("t").Snapshot.Pid;
        using var socket = await ConnectAsync(host, "/plugins/t/ws/throw-after-accept");

        var closed = await ReceiveWholeAsync(socket);

        Assert.Equal(WebSocketCloseStatus.InternalServerError, closed.Last.CloseStatus);
        Assert.Contains("InvalidOperationException", closed.Last.CloseStatusDescription, StringComparison.Ordinal);
        await AssertANewSocketEchoesAsync(host, "still here");
        Assert.Equal(pid, host.Supervisor("t").Snapshot.Pid);
    }

    [Fact]
    public async Task AWorkerThatDiesMidSocket_ClosesTheClientWith1011_IsCounted_AndTheRestartedWorkerTakesNewSockets()
    {
        await using var host = await StartAsync();
        host.ExpectErrors = true;
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var pid = host.Supervisor("t").Snapshot.Pid;
        using var socket = await ConnectAsync(host, "/plugins/t/ws/echo");

        await SendTextAsync(socket, "crash");
        var closed = await ReceiveWholeAsync(socket);

        Assert.Equal(WebSocketMessageType.Close, closed.Type);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, closed.Last.CloseStatus);
        Assert.Contains("plugin 't' failed", closed.Last.CloseStatusDescription, StringComparison.Ordinal);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        Assert.True(view.GetProperty("callFailures").GetInt64() >= 1, view.ToString());
        Assert.Contains("pid", view.GetProperty("lastCallError").GetString(), StringComparison.Ordinal);

        await host.WaitForAsync("t", s => s.State == WorkerState.Ready && s.Pid != pid, "a new worker");
        await AssertANewSocketEchoesAsync(host, "again");
    }

    [Fact]
    public async Task DisablingThePlugin_ClosesItsOpenSocketsWith1001_SoClientsKnowToReconnect()
    {
        await using var host = await StartAsync();
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var socket = await ConnectAsync(host, "/plugins/t/ws/echo");

        var disabling = host.Admin.PostAsync("/admin/api/plugins/t/disable", null);
        var closed = await ReceiveWholeAsync(socket);

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed.Last.CloseStatus);
        Assert.Equal("the plugin is stopping", closed.Last.CloseStatusDescription);
        (await disabling).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task AtThePluginsLimitOfSockets_AHandshakeIsAnswered503WithRetryAfter_UntilOneCloses()
    {
        await using var host = await StartAsync(o => o.MaxWebSocketsPerPlugin = 1);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var first = await ConnectAsync(host, "/plugins/t/ws/echo");
        using var second = AdminClient();

        await Assert.ThrowsAsync<WebSocketException>(() => second.ConnectAsync(SocketUri(host, "/plugins/t/ws/echo"), CancellationToken.None));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.HttpStatusCode);
        Assert.Equal("1", second.HttpResponseHeaders?["Retry-After"].Single());
        Assert.Equal(1, (await WebSocketsViewAsync(host)).GetProperty("refused").GetInt64());
        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await UntilAsync(async () => (await WebSocketsViewAsync(host)).GetProperty("open").GetInt32() == 0, "the first socket to close");
        using var third = await ConnectAsync(host, "/plugins/t/ws/echo");
        Assert.Equal(WebSocketState.Open, third.State);
    }

    [Fact]
    public async Task AHostWithoutUseWebSockets_AnswersAHandshake501_SayingHowToEnableThem()
    {
        await using var host = await StartAsync(useWebSockets: false);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var detail = await RefusalDetailAsync(host, "/plugins/t/ws/echo");

        Assert.Contains("app.UseWebSockets()", detail, StringComparison.Ordinal);
        Assert.Equal(0, host.Supervisor("t").InFlight);
    }

    [Fact]
    public async Task TheHelloExample_UnderPluginWorker_GreetsOverAWebSocket()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Hello()], null, mapApplication: app => app.UseWebSockets());
        await host.WaitForStateAsync("hello", WorkerState.Ready);
        using var socket = await ConnectAsync(host, "/plugins/hello/greet");

        await SendTextAsync(socket, "Ada");

        Assert.Equal("hello, Ada, from hello 1.0.0", Encoding.UTF8.GetString((await ReceiveWholeAsync(socket)).Data));
        using var timeout = new CancellationTokenSource(s_wait);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        Assert.Equal("bye", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task AStoppingHost_ClosesOpenSocketsWith1001_AndStopsWithoutWaitingForThem()
    {
        await using var host = await StartAsync();
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var pid = host.Supervisor("t").Snapshot.Pid!.Value;
        using var socket = await ConnectAsync(host, "/plugins/t/ws/echo");

        var stopping = host.StopAsync();
        var closed = await ReceiveWholeAsync(socket);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        var stopped = await Task.WhenAny(stopping, Task.Delay(s_wait));

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed.Last.CloseStatus);
        Assert.Equal("the host is stopping", closed.Last.CloseStatusDescription);
        Assert.Same(stopping, stopped);
        await stopping;
        Assert.False(Liveness.IsAlive(pid), $"worker pid {pid} outlived its host");
    }

    [Fact]
    public async Task APluginThatNeverAnswersAClose_IsNotWaitedForPastTheCloseTimeout_AndTheClientGetsItsAnswer()
    {
        await using var host = await StartAsync(o => o.WebSocketCloseTimeout = TimeSpan.FromMilliseconds(500));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var socket = await ConnectAsync(host, "/plugins/t/ws/deaf");

        using var timeout = new CancellationTokenSource(s_wait);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);

        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal("the plugin did not answer the close", socket.CloseStatusDescription);
        await UntilAsync(async () => (await WebSocketsViewAsync(host)).GetProperty("open").GetInt32() == 0, "the socket to leave the count");
        await AssertANewSocketEchoesAsync(host, "the plugin still serves");
    }
}
