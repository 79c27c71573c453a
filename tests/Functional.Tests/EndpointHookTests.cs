using System.Buffers;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>The embedding application's own endpoints run through hook points with <c>WithPluginHooks</c>, against real workers.</summary>
public sealed class EndpointHookTests
{
    private static readonly HookPoint Response = new("response", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2));
    private static readonly HookPoint RequestAsOutboundClosed = new("request", HookFailureMode.FailClosed, TimeSpan.FromSeconds(2));

    private sealed record Greeting(string Text);

    [Fact]
    public async Task AnInboundHook_RewritesTheBodyTheEndpointBinds_AndTheOutboundHookSetsItsHeader()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Hello()], null, mapApplication: app =>
            app.MapPost("/app/greet", (Greeting greeting, HttpRequest request) => Results.Json(new { echoed = greeting.Text, length = request.ContentLength }))
                .WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request, Outbound = Response }));
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        using var answer = await host.Client.PostAsJsonAsync("/app/greet", new Greeting("hello world"));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.Equal("HELLO from the hello plugin world", (string?)body["echoed"]);
        // The endpoint sees the length of the body it reads, not of the one the client sent.
        Assert.Equal(Encoding.UTF8.GetByteCount("""{"text":"HELLO from the hello plugin world"}"""), (long?)body["length"]);
        Assert.Equal("1.0.0", Assert.Single(answer.Headers.GetValues("x-hello-plugin")));
        Assert.Equal("POST /app/greet 200", Assert.Single(answer.Headers.GetValues("x-hello-saw")));
    }

    [Fact]
    public async Task AShortCircuitAtTheInboundPoint_AnswersInsteadOfTheEndpoint_NamingThePlugin()
    {
        var calls = 0;
        await using var host = await TestHost.StartAsync([PluginFolders.Hello()], null, mapApplication: app =>
            app.MapPost("/app/run", () => Interlocked.Increment(ref calls))
                .WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request }));
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        using var answer = await host.Client.PostAsync("/app/run", new StringContent("this is forbidden"));

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Equal("hello", Assert.Single(answer.Headers.GetValues("X-Short-Circuited-By")));
        Assert.StartsWith("sandbox allow-scripts", Assert.Single(answer.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Contains("hello refused this request", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task AFailClosedInboundPointWhosePluginThrows_Answers502_AndTheEndpointDoesNotRun()
    {
        var calls = 0;
        await using var host = await TestHost.StartAsync([PluginFolders.Test("thrower", "error-in-hook")], null, mapApplication: app =>
            app.MapPost("/app/run", () => Interlocked.Increment(ref calls))
                .WithPluginHooks(new EndpointHooks { Inbound = TestHost.RequestClosed }));
        host.ExpectErrors = true;
        await host.WaitForStateAsync("thrower", WorkerState.Ready);

        using var answer = await host.Client.PostAsync("/app/run", new StringContent("x"));

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Equal("error", Assert.Single(answer.Headers.GetValues("X-Plugin-Error")));
        Assert.Contains("thrower", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task AnOutboundHookSeesTheWholeResponse_AndItsReplacementIsSentWithItsOwnLength()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("tagger")], null, mapApplication: app =>
            app.MapGet("/app/report", async (HttpResponse response) =>
            {
                // Written in pieces, one of them left unflushed in the pipe: the hook still sees all of it.
                await response.WriteAsync("part one, ");
                response.BodyWriter.Write("part two"u8);
            }).WithPluginHooks(new EndpointHooks { Outbound = RequestAsOutboundClosed }));
        await host.WaitForStateAsync("tagger", WorkerState.Ready);

        using var answer = await host.Client.GetAsync("/app/report");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("part one, part two|tagger", await answer.Content.ReadAsStringAsync());
        Assert.Equal("part one, part two|tagger".Length, answer.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task BodiesOverTheLimit_PassAsStreams_Untouched_WithThePluginsHeadersApplied()
    {
        var sent = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("hello ", 2000)));
        await using var host = await TestHost.StartAsync([PluginFolders.Hello()], null, mapApplication: app =>
            app.MapPost("/app/mirror", async (HttpContext context) =>
            {
                using var received = new MemoryStream();
                await context.Request.Body.CopyToAsync(received);
                // Back in 1 KiB writes: the response outgrows the limit half-way.
                var bytes = received.ToArray();
                for (var i = 0; i < bytes.Length; i += 1024)
                {
                    await context.Response.Body.WriteAsync(bytes.AsMemory(i, Math.Min(1024, bytes.Length - i)));
                }
            }).WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request, Outbound = Response, MaxBodyBytes = 4096 }));
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        // Chunked, so the host learns the size only by reading past the limit.
        using var content = new StreamContent(new MemoryStream(sent));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/app/mirror") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var answer = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        // hello would have rewritten "hello": a body it could not see was not replaced, and arrived whole.
        Assert.Equal(sent, await answer.Content.ReadAsByteArrayAsync());
        Assert.Equal("1.0.0", Assert.Single(answer.Headers.GetValues("x-hello-plugin")));
    }

    [Fact]
    public async Task AStreamedResponseWithALimitOfNothing_IsShownToTheOutboundPointBeforeAnyOfItIsSent_WhichCanAnswerInstead()
    {
        var wroteSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.StartAsync([PluginFolders.Test("limiter", "short-circuit")], null, mapApplication: app =>
            app.MapGet("/app/events", async (HttpResponse response) =>
            {
                response.ContentType = "text/event-stream";
                await response.StartAsync();
                await response.WriteAsync("data: secret\n\n");
                wroteSecond.TrySetResult();
            }).WithPluginHooks(new EndpointHooks { Outbound = RequestAsOutboundClosed, MaxBodyBytes = 0 }));
        await host.WaitForStateAsync("limiter", WorkerState.Ready);

        using var answer = await host.Client.GetAsync("/app/events");

        Assert.Equal((HttpStatusCode)429, answer.StatusCode);
        Assert.Equal("limiter says slow down", await answer.Content.ReadAsStringAsync());
        await wroteSecond.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task PluginsSetAndRemoveRequestHeaders_ButNeverTheHostsCredentials_AndDoNotSeeThem()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("tagger", "set-headers")], null, mapApplication: app =>
            app.MapGet("/app/headers", (HttpRequest request) => Results.Json(new
            {
                taggedBy = request.Headers["x-tagged-by"].ToString(),
                removeMe = request.Headers["x-remove-me"].ToString(),
                authorization = request.Headers.Authorization.ToString(),
            })).WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request }));
        await host.WaitForStateAsync("tagger", WorkerState.Ready);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/app/headers");
        request.Headers.Add("x-remove-me", "please");
        request.Headers.Add("Authorization", "Bearer client-token");
        using var answer = await host.Client.SendAsync(request);

        var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.Equal("tagger", (string?)body["taggedBy"]);
        Assert.Equal(string.Empty, (string?)body["removeMe"]);
        // The plugin never saw the client's token, and its forged one did not replace it.
        Assert.Equal("Bearer client-token", (string?)body["authorization"]);
    }

    [Fact]
    public async Task ARouteGroupsEndpointsAndControllerActions_RunThroughTheHooksTheyAreGiven()
    {
        await using var host = await TestHost.StartAsync(
            [PluginFolders.Test("tagger")],
            null,
            mapApplication: app =>
            {
                var group = app.MapGroup("/api").WithPluginHooks(new EndpointHooks { Outbound = RequestAsOutboundClosed });
                group.MapGet("/one", () => "one");
                group.MapGet("/two", () => "two");
                app.MapControllers().WithPluginHooks(new EndpointHooks { Outbound = RequestAsOutboundClosed });
            },
            services: s => s.AddControllers().AddApplicationPart(typeof(HookedController).Assembly));
        await host.WaitForStateAsync("tagger", WorkerState.Ready);

        Assert.Equal("one|tagger", await host.Client.GetStringAsync("/api/one"));
        Assert.Equal("two|tagger", await host.Client.GetStringAsync("/api/two"));
        Assert.Equal("from a controller|tagger", await host.Client.GetStringAsync("/controller/hooked"));
    }

    [Fact]
    public async Task AYarpGateway_RunsProxiedTrafficThroughTheHooks_BothWays()
    {
        var backendCalls = 0;
        var backendBuilder = WebApplication.CreateSlimBuilder();
        backendBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var backend = backendBuilder.Build();
        backend.MapPost("/api/echo", async (HttpRequest request) =>
        {
            Interlocked.Increment(ref backendCalls);
            using var reader = new StreamReader(request.Body);
            return Results.Text($"{await reader.ReadToEndAsync()} (the backend got {request.ContentLength} bytes)");
        });
        await backend.StartAsync();
        var backendAddress = backend.Urls.First();

        await using var host = await TestHost.StartAsync(
            [PluginFolders.Hello()],
            null,
            mapApplication: app => app.MapReverseProxy().WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request, Outbound = Response }),
            services: s => s.AddReverseProxy().LoadFromMemory(
                [new Yarp.ReverseProxy.Configuration.RouteConfig { RouteId = "api", ClusterId = "backend", Match = new() { Path = "/api/{**rest}" } }],
                [new Yarp.ReverseProxy.Configuration.ClusterConfig { ClusterId = "backend", Destinations = new Dictionary<string, Yarp.ReverseProxy.Configuration.DestinationConfig> { ["one"] = new() { Address = backendAddress } } }]));
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        using var answer = await host.Client.PostAsync("/api/echo", new StringContent("hello world"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("HELLO from the hello plugin world (the backend got 33 bytes)", await answer.Content.ReadAsStringAsync());
        Assert.Equal("1.0.0", Assert.Single(answer.Headers.GetValues("x-hello-plugin")));

        using var refused = await host.Client.PostAsync("/api/echo", new StringContent("this is forbidden"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(1, backendCalls);
    }

    [Fact]
    public async Task PluginRoutesRunThroughTheHostsRouteHooks_OnlyOnceTheHostLetTheRequestThrough()
    {
        // The limiter answers every hook call it gets with 429: a 401 says the hooks were not reached.
        await using var host = await TestHost.StartAsync(
            [PluginFolders.Test("limiter", "short-circuit"), PluginFolders.Test("tp")],
            o => o.PluginRouteHooks = new EndpointHooks { Inbound = TestHost.Request },
            mapApplication: app => app.UseWebSockets());
        await Task.WhenAll(host.WaitForStateAsync("limiter", WorkerState.Ready), host.WaitForStateAsync("tp", WorkerState.Ready));

        using var anonymous = await host.Client.GetAsync("/plugins/tp/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var admitted = await host.Admin.GetAsync("/plugins/tp/whoami");
        Assert.Equal((HttpStatusCode)429, admitted.StatusCode);
        Assert.Equal("limiter", Assert.Single(admitted.Headers.GetValues("X-Short-Circuited-By")));

        // A WebSocket's handshake is a request like any other: a hook that answers it instead keeps the socket from opening.
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("X-Api-Key", TestHost.AdminKey);
        socket.Options.CollectHttpResponseDetails = true;
        var socketUri = new UriBuilder(host.Admin.BaseAddress!) { Scheme = "ws", Path = "/plugins/tp/ws/echo" }.Uri;
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => socket.ConnectAsync(socketUri, CancellationToken.None));
        Assert.Equal((HttpStatusCode)429, socket.HttpStatusCode);
        Assert.Equal("limiter", Assert.Single(socket.HttpResponseHeaders!["X-Short-Circuited-By"]));

        // The admin view lists the plugin routes among the point's endpoints.
        var view = JsonNode.Parse(await host.Admin.GetStringAsync("/admin/api/hooks"))!.AsArray();
        var request = view.Single(p => (string?)p!["point"] == "request")!;
        Assert.Equal("/plugins/{id}/{**path}", (string?)request["endpoints"]![0]!["route"]);
    }

    [Fact]
    public async Task APluginRoutesBodyAndAnswer_AreThoseTheRouteHooksLeft()
    {
        await using var host = await TestHost.StartAsync(
            [PluginFolders.Hello(), PluginFolders.Test("tp")],
            o => o.PluginRouteHooks = new EndpointHooks { Inbound = TestHost.Request, Outbound = Response });
        await Task.WhenAll(host.WaitForStateAsync("hello", WorkerState.Ready), host.WaitForStateAsync("tp", WorkerState.Ready));

        // The route counts the bytes it got: hello made "hello world" "HELLO from the hello plugin
        // world" (33), then tp's own request hook appended "|tp" (36): every plugin at the point runs.
        using var answer = await host.Admin.PostAsync("/plugins/tp/upload", new StringContent("hello world"));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(36, (int)JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["bytes"]!);
        Assert.Equal("1.0.0", Assert.Single(answer.Headers.GetValues("x-hello-plugin")));
    }

    [Fact]
    public async Task APluginRoutesDeclaredLength_SurvivesTheOutboundPoint_HeldAndStreamed()
    {
        // Held (under MaxBodyBytes) the runner sends the answer with its own length; streamed, the plugin's passes.
        await using var host = await TestHost.StartAsync(
            [PluginFolders.Hello(), PluginFolders.Test("tp")],
            o => o.PluginRouteHooks = new EndpointHooks { Outbound = Response, MaxBodyBytes = 1024 * 1024 });
        await Task.WhenAll(host.WaitForStateAsync("hello", WorkerState.Ready), host.WaitForStateAsync("tp", WorkerState.Ready));

        foreach (var size in new[] { 100_000, 3 * 1024 * 1024 })
        {
            using var answer = await host.Admin.GetAsync($"/plugins/tp/bytes?n={size}&declare={size}");

            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(size, answer.Content.Headers.ContentLength);
            Assert.Equal(size, (await answer.Content.ReadAsByteArrayAsync()).Length);
            Assert.Equal("1.0.0", Assert.Single(answer.Headers.GetValues("x-hello-plugin")));
        }
    }

    [Fact]
    public async Task ATenantThatIsNoTenantId_IsRefusedBeforeAnyPluginOrTheEndpointSeesIt()
    {
        var calls = 0;
        // The plugin answers every call it gets with 429: a 400 says it got none.
        await using var host = await TestHost.StartAsync([PluginFolders.Test("limiter", "short-circuit")], null, mapApplication: app =>
            app.MapPost("/app/run", () => Interlocked.Increment(ref calls))
                .WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request, Tenant = context => context.Request.Headers["X-Tenant"].ToString() }));
        await host.WaitForStateAsync("limiter", WorkerState.Ready);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/app/run") { Content = new StringContent("x") };
        request.Headers.Add("X-Tenant", new string('t', 129));
        using var answer = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("use at most 128", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task TheAdminHookView_ListsEachPointsPluginsInCallOrderAndItsEndpoints_AndWarnsOfAPointNothingRuns()
    {
        var misspelt = PluginFolders.Test("typo", "normal", "--also-hook", "respons");
        misspelt["hooks"] = new JsonArray("request", "respons");
        await using var host = await TestHost.StartAsync([PluginFolders.Hello(), PluginFolders.Test("tagger"), misspelt], o => o.HookOrder["request"] = ["tagger"], mapApplication: app =>
            app.MapPost("/app/run", () => "ran").WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request, Outbound = Response }));
        foreach (var id in new[] { "hello", "tagger", "typo" })
        {
            await host.WaitForStateAsync(id, WorkerState.Ready);
        }

        var view = JsonNode.Parse(await host.Admin.GetStringAsync("/admin/api/hooks"))!.AsArray();
        JsonNode Point(string name) => view.Single(p => (string?)p!["point"] == name)!;
        static string[] Ids(JsonNode point) => [.. point["plugins"]!.AsArray().Select(p => (string)p!["id"]!)];

        var request = Point("request");
        Assert.True((bool)request["declared"]!);
        Assert.Equal("FailOpen", (string?)request["failureMode"]);
        // The host's configured order first, then manifest priority, then id.
        Assert.Equal(["tagger", "hello", "typo"], Ids(request));
        Assert.Equal("/app/run inbound", $"{request["endpoints"]![0]!["route"]} {request["endpoints"]![0]!["direction"]}");
        Assert.Null((string?)request["warning"]);

        var response = Point("response");
        Assert.False((bool)response["declared"]!);
        Assert.Equal(["hello"], Ids(response));
        Assert.Equal("outbound", (string?)response["endpoints"]![0]!["direction"]);
        Assert.Null((string?)response["warning"]);

        var respons = Point("respons");
        Assert.Equal(["typo"], Ids(respons));
        Assert.Contains("Check the name in their plugin.json 'hooks' against the host's points: 'request'", (string?)respons["warning"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task HooksNamingNoPoint_OrALimitNoCallCanCarry_OrWithoutThePluginHost_AreRefusedSayingWhatToDo()
    {
        await using var app = WebApplication.CreateSlimBuilder().Build();
        var none = Assert.Throws<ArgumentException>(() => app.MapGet("/x", () => "x").WithPluginHooks(new EndpointHooks()));
        Assert.Contains("set Inbound, Outbound or both", none.Message, StringComparison.Ordinal);
        var huge = Assert.Throws<ArgumentException>(() => app.MapGet("/y", () => "y").WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request, MaxBodyBytes = 64L * 1024 * 1024 }));
        Assert.Contains("at most 16 MiB", huge.Message, StringComparison.Ordinal);

        // Without the plugin host, the endpoint says what is missing when it is built.
        app.MapGet("/z", () => "z").WithPluginHooks(new EndpointHooks { Inbound = TestHost.Request });
        var endpoints = ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)app).DataSources;
        var missing = Assert.Throws<InvalidOperationException>(() => endpoints.SelectMany(d => d.Endpoints).ToList());
        Assert.Contains("call builder.Services.AddPluginHost(...)", missing.Message, StringComparison.Ordinal);
    }
}

/// <summary>A controller action, to show hooks wrap controllers as they wrap minimal endpoints.</summary>
[Microsoft.AspNetCore.Mvc.ApiController]
[Microsoft.AspNetCore.Mvc.Route("controller")]
public sealed class HookedController : Microsoft.AspNetCore.Mvc.ControllerBase
{
    [Microsoft.AspNetCore.Mvc.HttpGet("hooked")]
    public Microsoft.AspNetCore.Mvc.IActionResult Get() => Ok("from a controller");
}
