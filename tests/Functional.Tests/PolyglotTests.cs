using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Plugins written in Python, Node.js and Go against the protos only, through the real host.</summary>
public sealed class PolyglotTests
{
    private static JsonObject Python() => Example("python-hello", "/usr/bin/python3", TestPaths.PythonPlugin);

    private static JsonObject Node() => Example("node-hello", "node", TestPaths.NodePlugin);

    private static JsonObject Go() => Example("go-hello", TestPaths.GoPlugin);

    // Every example: one request hook, GET /ping anonymous and POST /count.
    private static JsonObject Example(string id, string command, params string[] args) => new()
    {
        ["id"] = id,
        ["version"] = "1.0.0",
        ["command"] = command,
        ["args"] = new JsonArray([.. args.Select(a => JsonValue.Create(a))]),
        ["hooks"] = new JsonArray("request"),
        ["routes"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/ping", ["anonymous"] = true }, new JsonObject { ["method"] = "POST", ["path"] = "/count" }),
    };

    [Theory]
    [InlineData(3000, true, true, "HandleHttpBuffered", "in the call")]
    [InlineData(300_000, true, true, "HandleHttpBuffered", "ReadHttpBody")]
    [InlineData(300_000, false, true, "HandleHttpBuffered", "ReadHttpBody")]
    [InlineData(300_000, true, false, "HandleHttp", "HandleHttp")]
    public async Task PythonPlugin_ReadsABody_WholeInTheCall_FromTheHost_OrInTheCallsFrames(int size, bool declared, bool hostLetsPluginsPull, string rpc, string cameBy)
    {
        // The contract's body paths work from another language than the Sdk's: PluginHost.ReadHttpBody
        // from Python's grpcio, with the plugin's own token; HandleHttp's frames when the host keeps bodies.
        await using var host = await TestHost.StartAsync([Python()], o => o.PullRouteBodies = hostLetsPluginsPull);
        await host.WaitForStateAsync("python-hello", WorkerState.Ready);
        var body = new byte[size];
        HttpContent content = declared ? new ByteArrayContent(body) : new StreamContent(new UnknownLengthStream(body));

        var response = await host.Admin.PostAsync("/plugins/python-hello/count", content);

        response.EnsureSuccessStatusCode();
        var counted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(size, counted.GetProperty("bytes").GetInt64());
        Assert.Equal(rpc, counted.GetProperty("rpc").GetString());
        Assert.Equal(cameBy, counted.GetProperty("body").GetString());
    }

    [Fact]
    public async Task PythonPlugin_AnswersAHookAndARoute_FromItsOwnProcess()
    {
        await using var host = await TestHost.StartAsync(Python(), PluginFolders.Hello());
        await Task.WhenAll(host.WaitForStateAsync("python-hello", WorkerState.Ready), host.WaitForStateAsync("hello", WorkerState.Ready));

        var modified = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("hello"));
        var stopped = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("python-stop"));
        var pong = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/python-hello/ping");

        AssertSeenAfterHello(modified, stopped, "python");
        Assert.StartsWith("python/3", pong.GetProperty("runtime").GetString(), StringComparison.Ordinal);
        // Its Describe announces HandleHttpBuffered, so a bodiless request comes whole.
        Assert.Equal("HandleHttpBuffered", pong.GetProperty("rpc").GetString());
        Assert.Equal(host.Supervisor("python-hello").Snapshot.Pid, pong.GetProperty("pid").GetInt32());
    }

    [Theory]
    [InlineData("node", 0, true)]
    [InlineData("node", 3000, false)]
    [InlineData("node", 3_000_000, true)]
    [InlineData("go", 0, true)]
    [InlineData("go", 3000, false)]
    [InlineData("go", 3_000_000, true)]
    public async Task NodeAndGoPlugins_ReadABodyInHandleHttpsFrames_WhateverItsSize(string language, int size, bool declared)
    {
        // The one path every plugin must serve: the body in frames up to `end`, read with grpc-js's
        // stream events or grpc-go's Recv, through the host's flow control for a body of megabytes.
        var example = language == "go" ? Go() : Node();
        var id = example["id"]!.GetValue<string>();
        await using var host = await TestHost.StartAsync(example);
        await host.WaitForStateAsync(id, WorkerState.Ready);
        var body = new byte[size];
        HttpContent content = declared ? new ByteArrayContent(body) : new StreamContent(new UnknownLengthStream(body));

        var response = await host.Admin.PostAsync($"/plugins/{id}/count", content);

        response.EnsureSuccessStatusCode();
        var counted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(size, counted.GetProperty("bytes").GetInt64());
        Assert.Equal("HandleHttp", counted.GetProperty("rpc").GetString());
    }

    [Fact]
    public async Task NodePlugin_AnswersAHookAndARoute_AndRefusesCallsWithoutTheToken()
    {
        await using var host = await TestHost.StartAsync(Node());
        await host.WaitForStateAsync("node-hello", WorkerState.Ready);
        using var channel = UnixSocketChannel.Create(host.Supervisor("node-hello").ReadyWorker!.Handshake!.Address);

        var modified = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("hi"));
        var stopped = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("node-stop"));
        var pong = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/node-hello/ping");
        var refused = await Assert.ThrowsAsync<RpcException>(() => new Protocol.V1.Plugin.PluginClient(channel).DescribeAsync(new DescribeRequest()).ResponseAsync);

        Assert.Equal("hi (seen by node)", Encoding.UTF8.GetString(Assert.IsType<HookOutcome.Continued>(modified).Body.Span));
        Assert.Equal(451, Assert.IsType<HookOutcome.ShortCircuited>(stopped).StatusCode);
        Assert.StartsWith("node/", pong.GetProperty("runtime").GetString(), StringComparison.Ordinal);
        // It does not announce HandleHttpBuffered, so every request comes through HandleHttp.
        Assert.Equal("HandleHttp", pong.GetProperty("rpc").GetString());
        Assert.Equal(host.Supervisor("node-hello").Snapshot.Pid, pong.GetProperty("pid").GetInt32());
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task GoPlugin_AnswersAHookAndARoute_RefusesCallsWithoutTheToken_AndExitsWhenAsked()
    {
        await using var host = await TestHost.StartAsync(Go(), PluginFolders.Hello());
        await Task.WhenAll(host.WaitForStateAsync("go-hello", WorkerState.Ready), host.WaitForStateAsync("hello", WorkerState.Ready));
        var pid = host.Supervisor("go-hello").Snapshot.Pid!.Value;
        using var channel = UnixSocketChannel.Create(host.Supervisor("go-hello").ReadyWorker!.Handshake!.Address);

        var modified = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("hello"));
        var stopped = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("go-stop"));
        var pong = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/go-hello/ping");
        var refused = await Assert.ThrowsAsync<RpcException>(() => new Protocol.V1.Plugin.PluginClient(channel).DescribeAsync(new DescribeRequest()).ResponseAsync);
        var health = await Assert.ThrowsAsync<RpcException>(() => new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest()).ResponseAsync);
        var disabled = await host.Admin.PostAsync("/admin/api/plugins/go-hello/disable", null);

        AssertSeenAfterHello(modified, stopped, "go");
        Assert.StartsWith("go/go1.", pong.GetProperty("runtime").GetString(), StringComparison.Ordinal);
        Assert.Equal("HandleHttp", pong.GetProperty("rpc").GetString());
        Assert.Equal(pid, pong.GetProperty("pid").GetInt32());
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, health.StatusCode);
        disabled.EnsureSuccessStatusCode();
        // Disabled, it is asked to shut down and exits by itself within the grace: the host had nothing to kill (4211).
        await SupervisorTests.WaitUntilAsync(() => !Liveness.IsAlive(pid), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("killed", host.Supervisor("go-hello").Snapshot.LastError ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GoPlugin_TakesConnectionsOnlyFromTheHost_NotFromAnotherPluginHoldingItsToken()
    {
        await using var host = await TestHost.StartAsync(Go(), PluginFolders.Test("thief"));
        await host.WaitForStateAsync("thief", WorkerState.Ready);
        var victim = await host.WaitForStateAsync("go-hello", WorkerState.Ready);

        // The thief reads the Go worker's token and socket from its environment, then calls it.
        var stolen = await (await host.Admin.PostAsync($"/plugins/thief/impersonate?pid={victim.Pid}", null)).Content.ReadAsStringAsync();
        var pong = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/go-hello/ping");

        Assert.StartsWith("worker: refused; ", stolen, StringComparison.Ordinal);
        Assert.Equal("HandleHttp", pong.GetProperty("rpc").GetString());
        Assert.Contains(host.Supervisor("go-hello").RecentStderr, line => line.Contains("only the host, pid " + Environment.ProcessId + ", may call this plugin", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PythonPlugin_RefusesACallFromAnotherPluginHoldingItsToken_CutsItsConnection_AndServesTheHostAgain()
    {
        await using var host = await TestHost.StartAsync(Python(), PluginFolders.Test("thief"));
        await host.WaitForStateAsync("thief", WorkerState.Ready);
        var victim = await host.WaitForStateAsync("python-hello", WorkerState.Ready);

        // The thief reads the Python worker's token and socket from its environment and calls its Describe.
        var stolen = await (await host.Admin.PostAsync($"/plugins/thief/call-worker?pid={victim.Pid}", null)).Content.ReadAsStringAsync();
        // Calls are refused while the thief's connection is open; grpcio closes it once it is cut.
        var served = false;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !served && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            using var ping = await host.Client.GetAsync("/plugins/python-hello/ping");
            served = ping.IsSuccessStatusCode;
        }

        Assert.StartsWith("refused: ", stolen, StringComparison.Ordinal);
        Assert.True(served, "python-hello did not answer the host again after the thief's connection was cut");
        Assert.Contains(host.Supervisor("python-hello").RecentStderr, line => line.Contains("only the host, pid " + Environment.ProcessId + ", may call this plugin", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NodePlugin_TakesConnectionsOnlyFromTheHost_NotFromAnotherPluginHoldingItsToken()
    {
        await using var host = await TestHost.StartAsync(Node(), PluginFolders.Test("thief"));
        await host.WaitForStateAsync("thief", WorkerState.Ready);
        var victim = await host.WaitForStateAsync("node-hello", WorkerState.Ready);

        // The thief reads the Node.js worker's token and socket from its environment and calls its Describe.
        var stolen = await (await host.Admin.PostAsync($"/plugins/thief/call-worker?pid={victim.Pid}", null)).Content.ReadAsStringAsync();
        var pong = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/node-hello/ping");

        Assert.StartsWith("refused: ", stolen, StringComparison.Ordinal);
        Assert.Equal(victim.Pid, pong.GetProperty("pid").GetInt32());
        Assert.Contains(host.Supervisor("node-hello").RecentStderr, line => line.Contains("only the host, pid " + Environment.ProcessId + ", may call this plugin", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PythonPlugin_RefusesCallsWithoutTheToken()
    {
        await using var host = await TestHost.StartAsync(Python());
        await host.WaitForStateAsync("python-hello", WorkerState.Ready);
        using var channel = UnixSocketChannel.Create(host.Supervisor("python-hello").ReadyWorker!.Handshake!.Address);

        var refused = await Assert.ThrowsAsync<RpcException>(() => new Protocol.V1.Plugin.PluginClient(channel).DescribeAsync(new DescribeRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task PythonPlugin_RunByHand_ExplainsItself()
    {
        var start = new ProcessStartInfo("/usr/bin/python3", [TestPaths.PythonPlugin]) { RedirectStandardError = true, RedirectStandardInput = true };
        start.Environment.Remove("PLUGIN_MAGIC_COOKIE");
        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("plugin for a GrpcPlugins host", stderr, StringComparison.Ordinal);
    }

    /// <summary>hello runs first (ids in order), then the plugin in <paramref name="language"/> sees its output, and stops a call at its word.</summary>
    private static void AssertSeenAfterHello(HookOutcome modified, HookOutcome stopped, string language)
    {
        var continued = Assert.IsType<HookOutcome.Continued>(modified);
        Assert.Equal($"HELLO from the hello plugin (seen by {language})", Encoding.UTF8.GetString(continued.Body.Span));
        Assert.Equal("1.0.0", continued.Headers[$"x-{language}-plugin"]);
        Assert.Equal(418, Assert.IsType<HookOutcome.ShortCircuited>(stopped).StatusCode);
    }

    [Fact]
    public async Task PythonPlugin_ServesAWebSocket_PieceByPiece_WithinItsManifestsLimitOfSockets()
    {
        var python = Python();
        python["routes"]!.AsArray().Add(new JsonObject { ["method"] = "GET", ["path"] = "/shout" });
        python["limits"] = new JsonObject { ["maxWebSockets"] = 2, ["maxConcurrentCalls"] = 6 };
        await using var host = await TestHost.StartAsync([python, Node()], null, mapApplication: app => app.UseWebSockets());
        await Task.WhenAll(host.WaitForStateAsync("python-hello", WorkerState.Ready), host.WaitForStateAsync("node-hello", WorkerState.Ready));
        var uri = new UriBuilder(host.Admin.BaseAddress!) { Scheme = "ws", Path = "/plugins/python-hello/shout" }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var first = await ConnectAsync(uri, timeout.Token);
        using var second = await ConnectAsync(uri, timeout.Token);

        // A message in two pieces comes back in capitals, whole.
        await first.SendAsync(Encoding.UTF8.GetBytes("hello, "), WebSocketMessageType.Text, false, timeout.Token);
        await first.SendAsync(Encoding.UTF8.GetBytes("grpcio"), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[256];
        var received = 0;
        WebSocketReceiveResult got;
        do
        {
            got = await first.ReceiveAsync(new ArraySegment<byte>(buffer, received, buffer.Length - received), timeout.Token);
            received += got.Count;
        }
        while (!got.EndOfMessage);
        Assert.Equal("HELLO, GRPCIO", Encoding.UTF8.GetString(buffer, 0, received));

        // Its manifest's limit, not the host's thousand: a third socket would take one of its ten threads.
        using var third = new ClientWebSocket();
        third.Options.SetRequestHeader("X-Api-Key", TestHost.AdminKey);
        third.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => third.ConnectAsync(uri, timeout.Token));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.HttpStatusCode);

        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal("done", first.CloseStatusDescription);

        // A plugin that does not serve WebSockets (Describe leaves serves_websockets false) gets the request as a plain GET.
        using var plain = new ClientWebSocket();
        plain.Options.CollectHttpResponseDetails = true;
        var nodeUri = new UriBuilder(uri) { Path = "/plugins/node-hello/ping" }.Uri;
        await Assert.ThrowsAsync<WebSocketException>(() => plain.ConnectAsync(nodeUri, timeout.Token));
        Assert.Equal(HttpStatusCode.OK, plain.HttpStatusCode);
    }

    private static async Task<ClientWebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Api-Key", TestHost.AdminKey);
        await socket.ConnectAsync(uri, cancellationToken);
        return socket;
    }
}
