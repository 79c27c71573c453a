using System.Text;
using Google.Protobuf;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Functional.Tests;

/// <summary>A hook narrowed by its match, through a real worker: the calls it is spared, and the body it is not sent.</summary>
public sealed class HookMatchTests
{
    private static readonly HookPoint s_audit = new("audit", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2));

    private static JsonObject Auditor(string flag, JsonObject? match, string id = "auditor", string routeIds = "/orders*")
    {
        // The test plugin registers "audit" for these route ids, headers only, in its code.
        var manifest = PluginFolders.Test(id, "normal", flag, "audit", routeIds);
        var audit = new JsonObject { ["point"] = "audit" };
        if (match is not null)
        {
            audit["match"] = match;
        }

        manifest["hooks"] = new JsonArray("request", audit);
        return manifest;
    }

    private static JsonObject OrdersHeadersOnly(string routeIds = "/orders*") => new() { ["routeIds"] = new JsonArray(routeIds), ["headersOnly"] = true };

    private static HookInput At(string routeId) => WalkingSkeletonTests.Input("a body the auditor must not see") with { Context = new HookCallContext(RouteId: routeId) };

    [Fact]
    public async Task AHeadersOnlyHookForSomeRoutes_IsCalledOnlyForThem_AndIsSentNoBody()
    {
        await using var host = await TestHost.StartAsync(Auditor("--match-hook", OrdersHeadersOnly()));
        await host.WaitForStateAsync("auditor", WorkerState.Ready);

        var elsewhere = await host.Hooks.DispatchAsync(s_audit, At("/users/{id}"));
        var orders = await host.Hooks.DispatchAsync(s_audit, At("/orders/{id}"));

        // Called, the plugin always says how much body it got; for /users it was never called.
        Assert.False(Assert.IsType<HookOutcome.Continued>(elsewhere).Headers.ContainsKey("x-body-bytes-seen"));
        var seen = Assert.IsType<HookOutcome.Continued>(orders);
        Assert.Equal("0", seen.Headers["x-body-bytes-seen"]);
        Assert.Equal("a body the auditor must not see", Encoding.UTF8.GetString(seen.Body.Span));
    }

    [Fact]
    public async Task AnEndpointsHooks_ReachAPluginMatchingItsPattern_AndTheAdminViewShowsEachMatch_AndWarnsOfOneNoEndpointPasses()
    {
        await using var host = await TestHost.StartAsync(
            [Auditor("--match-hook", OrdersHeadersOnly()), Auditor("--match-hook", OrdersHeadersOnly("/ordres*"), id: "typo", routeIds: "/ordres*")],
            configure: null,
            mapApplication: app => app.MapPost("/orders/{id}", (HttpRequest request) => $"the auditor saw {request.Headers["x-body-bytes-seen"]} bytes")
                .WithPluginHooks(new EndpointHooks { Inbound = s_audit }));
        await Task.WhenAll(host.WaitForStateAsync("auditor", WorkerState.Ready), host.WaitForStateAsync("typo", WorkerState.Ready));

        using var answer = await host.Admin.PostAsync("/orders/7", new StringContent("a body the auditor must not see"));
        var view = JsonNode.Parse(await host.Admin.GetStringAsync("/admin/api/hooks"))!.AsArray().Single(p => (string?)p!["point"] == "audit")!;

        // The endpoint's route id is its pattern, which the auditor's "/orders*" takes.
        Assert.Equal("the auditor saw 0 bytes", await answer.Content.ReadAsStringAsync());
        Assert.Equal(
            ["auditor: routes /orders*; headers only", "typo: routes /ordres*; headers only"],
            view["plugins"]!.AsArray().Select(p => $"{p!["id"]}: {p["match"]}"));
        Assert.StartsWith("'typo' (routes /ordres*) matches none of the route ids that run through this point (/orders/{id})", (string?)view["warning"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResponseWhosePluginsAreAllHeadersOnly_IsNotHeld_ItsFirstBytesReachTheClientBeforeTheEndpointEnds()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.StartAsync([Auditor("--match-hook", OrdersHeadersOnly())], configure: null, mapApplication: app =>
            app.MapGet("/orders/feed", async (HttpResponse response) =>
            {
                await response.WriteAsync("first|");
                await response.Body.FlushAsync();
                // Held for the plugins, the client would see nothing until this returns.
                await release.Task.WaitAsync(TimeSpan.FromSeconds(20));
                await response.WriteAsync("last");
            }).WithPluginHooks(new EndpointHooks { Outbound = s_audit }));
        await host.WaitForStateAsync("auditor", WorkerState.Ready);

        using var response = await host.Admin.GetAsync("/orders/feed", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[6];
        await body.ReadExactlyAsync(first).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        release.SetResult();

        Assert.Equal("first|", Encoding.UTF8.GetString(first));
        Assert.Equal("last", await new StreamReader(body).ReadToEndAsync());
        // The plugin still set its header on the head, before the first byte went.
        Assert.Equal("0", Assert.Single(response.Headers.GetValues("x-body-bytes-seen")));
    }

    [Fact]
    public async Task ARequestWhosePluginsAreAllHeadersOnly_ReachesTheEndpointAsTheClientSentIt_NotReadAheadForThem()
    {
        await using var host = await TestHost.StartAsync([Auditor("--match-hook", OrdersHeadersOnly())], configure: null, mapApplication: app =>
            app.MapPost("/orders", async (HttpRequest request) =>
            {
                var read = await new StreamReader(request.Body).ReadToEndAsync();
                // A body held for plugins is handed on with its length; this one was never held.
                return $"{request.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no length"}|{read.Length}|{request.Headers["x-body-bytes-seen"]}";
            }).WithPluginHooks(new EndpointHooks { Inbound = s_audit }));
        await host.WaitForStateAsync("auditor", WorkerState.Ready);

        using var answer = await host.Admin.PostAsync("/orders", new StreamContent(new UnknownLengthStream(new byte[100_000])));

        Assert.Equal("no length|100000|0", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AHookForOneMethod_IsCalledOnlyForIt_AndSeesTheRequestLineAndCaller_AndOnTheWayOutTheStatus()
    {
        var manifest = PluginFolders.Test("deletes", "normal", "--request-line-hook", "audit", "DELETE");
        manifest["hooks"] = new JsonArray("request", new JsonObject { ["point"] = "audit", ["match"] = new JsonObject { ["methods"] = new JsonArray("DELETE"), ["headersOnly"] = true } });
        await using var host = await TestHost.StartAsync([manifest], configure: null, mapApplication: app =>
            app.MapMethods("/orders/{id}", ["GET", "DELETE"], (HttpRequest request, HttpResponse response) =>
            {
                response.StatusCode = StatusCodes.Status202Accepted;
                return $"in: {request.Headers["x-request-line"]}";
            }).RequireAuthorization(GrpcPlugins.Host.Auth.PluginHostPolicies.Admin).WithPluginHooks(new EndpointHooks { Inbound = s_audit, Outbound = s_audit }));
        await host.WaitForStateAsync("deletes", WorkerState.Ready);

        using var get = await host.Admin.GetAsync("/orders/42?full=1");
        using var delete = await host.Admin.DeleteAsync("/orders/42?full=1");

        Assert.Equal("in: ", await get.Content.ReadAsStringAsync());
        Assert.False(get.Headers.Contains("x-request-line"));
        Assert.Equal("in: Inbound DELETE /orders/42?full=1 0 user=admin", await delete.Content.ReadAsStringAsync());
        Assert.Equal("Outbound DELETE /orders/42?full=1 202 user=admin", Assert.Single(delete.Headers.GetValues("x-request-line")));
    }

    [Fact]
    public async Task TheSdk_AppliesItsOwnMatch_ForAHostThatSendsEveryCallWithItsBody()
    {
        // A host that predates matches calls for every route and sends the body: the Sdk
        // answers Continue without running the handler, and hands it no body.
        await using var host = await TestHost.StartAsync(Auditor("--match-hook", OrdersHeadersOnly()));
        await host.WaitForStateAsync("auditor", WorkerState.Ready);
        var plugin = host.Supervisor("auditor").ReadyWorker!.Connection.Plugin;
        HookRequest Call(string routeId) => new() { Point = "audit", Body = ByteString.CopyFromUtf8("a body"), Context = new HookContext { RouteId = routeId } };

        var elsewhere = await plugin.InvokeHookAsync(Call("/users"));
        var orders = await plugin.InvokeHookAsync(Call("/orders/{id}"));

        Assert.Equal(HookResponse.DecisionOneofCase.Continue, elsewhere.DecisionCase);
        Assert.Equal("0", orders.Modify.SetHeaders["x-body-bytes-seen"]);
    }

    [Fact]
    public async Task AHeadersOnlyHookThatReplacesTheBody_FailsInItsOwnProcess_AndTheCallGoesOnWithoutIt()
    {
        await using var host = await TestHost.StartAsync(Auditor("--match-hook-replaces", OrdersHeadersOnly()));
        host.ExpectErrors = true; // the plugin's own error is logged, as every failure is
        await host.WaitForStateAsync("auditor", WorkerState.Ready);

        var outcome = await host.Hooks.DispatchAsync(s_audit, At("/orders"));

        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Equal("a body the auditor must not see", Encoding.UTF8.GetString(continued.Body.Span));
        Assert.Contains("is headers only (HookMatch.HeadersOnly)", Assert.Single(continued.Skipped).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APluginThatNarrowsAHookItsManifestDoesNot_IsRefused_ShowingBoth()
    {
        await using var host = await TestHost.StartAsync([Auditor("--match-hook", match: null)], o => o.MaxRestarts = 0);
        host.ExpectErrors = true; // a refused plugin logs errors

        var snapshot = await host.WaitForStateAsync("auditor", WorkerState.CrashLooping);

        Assert.Contains("hooks: 'audit' match: manifest says every call, Describe says 'routes /orders*; headers only'", snapshot.LastError, StringComparison.Ordinal);
    }
}
