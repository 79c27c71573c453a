using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A plugin that stops keeping up is held to its limit of calls in flight: the calls over it
/// are refused at once, without a call, instead of gathering in the host until their deadlines.
/// </summary>
public sealed class CallLimitTests
{
    [Fact]
    public async Task RouteCallsOverThePluginsLimit_Are503BusyWithoutACall_ShownInItsView_AndTakenAgainOnceCallsEnd()
    {
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["maxConcurrentCalls"] = 2 };
        await using var host = await TestHost.StartAsync(manifest);
        var ready = await host.WaitForStateAsync("t", WorkerState.Ready);
        using var giveUp = new CancellationTokenSource();
        // Each waits 30 s in the plugin, until its caller gives up.
        var slow = Enumerable.Range(0, 2).Select(_ => host.Admin.GetAsync("/plugins/t/slow", giveUp.Token)).ToArray();
        await SupervisorTests.WaitUntilAsync(() => host.Supervisor("t").InFlight == 2, TimeSpan.FromSeconds(20));

        using var refused = await host.Admin.GetAsync("/plugins/t/echo/a");
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        var health = await host.Client.GetFromJsonAsync<JsonElement>("/healthz");
        var metrics = await host.Client.GetStringAsync("/metrics");
        var points = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/hooks");
        var listed = points.EnumerateArray().Single(p => p.GetProperty("point").GetString() == "request").GetProperty("plugins").EnumerateArray().Single();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("busy", refused.Headers.GetValues("X-Plugin-Error").Single());
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("2 calls already in flight, its limit (limits.maxConcurrentCalls", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var calls = view.GetProperty("calls");
        Assert.Equal(2, calls.GetProperty("inFlight").GetInt32());
        Assert.Equal(2, calls.GetProperty("limit").GetInt32());
        Assert.True(calls.GetProperty("atLimit").GetBoolean());
        Assert.Equal(1, calls.GetProperty("refused").GetInt64());
        Assert.Equal("Degraded", view.GetProperty("health").GetString());
        Assert.Contains("Busy: not called", view.GetProperty("lastCallError").GetString(), StringComparison.Ordinal);
        Assert.Contains("at its limit of 2 calls in flight", health.GetProperty("entries").GetProperty("plugin:t").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("plugin_calls_refused_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("outcome=\"busy\"", metrics, StringComparison.Ordinal);
        Assert.Equal("Ready, at its call limit", listed.GetProperty("state").GetString());

        // The callers give up, their calls end with them, and the plugin takes calls again.
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(slow));
        await SupervisorTests.WaitUntilAsync(() => host.Supervisor("t").InFlight == 0, TimeSpan.FromSeconds(20));
        using var answered = await host.Admin.GetAsync("/plugins/t/echo/a");
        var after = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(0, after.GetProperty("calls").GetProperty("inFlight").GetInt32());
        Assert.False(after.GetProperty("calls").GetProperty("atLimit").GetBoolean());
        Assert.Equal(1, after.GetProperty("calls").GetProperty("refused").GetInt64());
        Assert.Equal("Healthy", after.GetProperty("health").GetString());
        Assert.Equal(ready.Pid, host.Supervisor("t").Snapshot.Pid);
    }

    [Fact]
    public async Task AHookCallOverThePluginsLimit_IsSkippedAtAFailOpenPoint_AndFailsAFailClosedOne_WhileTheCallInFlightIsAnswered()
    {
        var manifest = PluginFolders.Test("t", "slow-hook", "2000");
        manifest["limits"] = new JsonObject { ["maxConcurrentCalls"] = 1 };
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var open = new HookPoint("request", HookFailureMode.FailOpen, TimeSpan.FromSeconds(10));
        var closed = open with { FailureMode = HookFailureMode.FailClosed };

        var first = host.Hooks.DispatchAsync(open, WalkingSkeletonTests.Input("x")).AsTask();
        await SupervisorTests.WaitUntilAsync(() => host.Supervisor("t").InFlight == 1, TimeSpan.FromSeconds(20));
        Assert.Equal(1, host.Supervisor("t").InFlight);
        var skipped = Assert.IsType<HookOutcome.Continued>(await host.Hooks.DispatchAsync(open, WalkingSkeletonTests.Input("y")));
        var failed = Assert.IsType<HookOutcome.Failed>(await host.Hooks.DispatchAsync(closed, WalkingSkeletonTests.Input("z")));
        var answered = Assert.IsType<HookOutcome.Continued>(await first);

        Assert.Equal(CallFailureKind.Busy, Assert.Single(skipped.Skipped).Kind);
        Assert.Equal("y", System.Text.Encoding.UTF8.GetString(skipped.Body.Span));
        Assert.Equal(CallFailureKind.Busy, failed.Failure.Kind);
        Assert.Equal(503, failed.Failure.StatusCode);
        Assert.Empty(answered.Skipped);
        Assert.Equal("x|t", System.Text.Encoding.UTF8.GetString(answered.Body.Span));
        Assert.Equal(2, host.Supervisor("t").CallsRefused);
    }
}
