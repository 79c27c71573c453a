using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A plugin whose hook handler hangs while its health service answers is not restarted;
/// the host pauses its hook calls instead of paying the deadline on every request.
/// </summary>
public sealed class HookBreakerTests
{
    private static readonly HookPoint s_quick = new("request", HookFailureMode.FailOpen, TimeSpan.FromMilliseconds(300));
    // For calls expected to answer: a busy machine may take longer than 300 ms to carry them, and
    // what is proved is that the breaker lets them through, not how fast they come back.
    private static readonly HookPoint s_patient = new("request", HookFailureMode.FailOpen, TimeSpan.FromSeconds(10));
    private static readonly HookPoint s_quickClosed = new("request", HookFailureMode.FailClosed, TimeSpan.FromMilliseconds(300));

    [Fact]
    public async Task AHookThatKeepsTimingOut_IsSkippedWithoutACall_ShownDegraded_AndCalledAgainOnceATrialIsAnswered()
    {
        // Its first three calls hang; the fourth and later answer.
        await using var host = await TestHost.StartAsync([PluginFolders.Test("stuck", "hang-first", "3")], o =>
        {
            o.HookBreakerTimeouts = 2;
            // Long enough for the checks below to see the pause on a busy machine.
            o.HookBreakerPause = TimeSpan.FromSeconds(3);
        });
        var ready = await host.WaitForStateAsync("stuck", WorkerState.Ready);

        Assert.Equal(CallFailureKind.TimedOut, await SkippedKindAsync(host));
        Assert.Equal(CallFailureKind.TimedOut, await SkippedKindAsync(host));
        var paused = await SkippedAsync(host);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/stuck");
        var health = await host.Client.GetFromJsonAsync<JsonElement>("/healthz");
        var points = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/hooks");
        var listed = points.EnumerateArray().Single(p => p.GetProperty("point").GetString() == "request").GetProperty("plugins").EnumerateArray().Single();

        Assert.Equal(CallFailureKind.CircuitOpen, paused.Kind);
        Assert.Contains("2 calls in a row missed their deadline", paused.Detail, StringComparison.Ordinal);
        Assert.InRange(paused.RetryAfter!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(3));
        Assert.Equal("open", view.GetProperty("hookBreaker").GetProperty("state").GetString());
        Assert.Equal(2, view.GetProperty("hookBreaker").GetProperty("consecutiveTimeouts").GetInt32());
        Assert.Equal("Degraded", view.GetProperty("health").GetString());
        Assert.Contains("CircuitOpen", view.GetProperty("lastCallError").GetString(), StringComparison.Ordinal);
        Assert.Contains("hook calls are paused", health.GetProperty("entries").GetProperty("plugin:stuck").GetProperty("description").GetString(), StringComparison.Ordinal);
        // The worker state beside it is its supervisor's (Ready, or Unhealthy after one slow probe on a busy machine).
        Assert.EndsWith(", hook calls paused", listed.GetProperty("state").GetString(), StringComparison.Ordinal);
        Assert.False(listed.GetProperty("called").GetBoolean());

        // The trial after the pause is the plugin's third call, which hangs too: paused again.
        await Task.Delay(TimeSpan.FromSeconds(3.1));
        Assert.Equal(CallFailureKind.TimedOut, await SkippedKindAsync(host));
        Assert.Equal(CallFailureKind.CircuitOpen, await SkippedKindAsync(host));

        // The next trial is answered, and calls go through again.
        await Task.Delay(TimeSpan.FromSeconds(3.1));
        var answered = await host.Hooks.DispatchAsync(s_patient, WalkingSkeletonTests.Input("x"));
        var after = await host.Hooks.DispatchAsync(s_patient, WalkingSkeletonTests.Input("y"));
        var closed = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/stuck");
        var metrics = await host.Client.GetStringAsync("/metrics");

        Assert.Equal("x|stuck", BodyOf(answered));
        Assert.Equal("y|stuck", BodyOf(after));
        Assert.Equal("closed", closed.GetProperty("hookBreaker").GetProperty("state").GetString());
        Assert.Equal(2, closed.GetProperty("hookBreaker").GetProperty("timesOpened").GetInt64());
        Assert.Equal("Healthy", closed.GetProperty("health").GetString());
        Assert.Contains("plugin_hook_breaker_opened_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("outcome=\"CircuitOpen\"", metrics, StringComparison.Ordinal);
        Assert.Equal(ready.Pid, host.Supervisor("stuck").Snapshot.Pid);
    }

    [Fact]
    public async Task AFailClosedEndpoint_AnswersAPausedPlugin_503WithRetryAfter_WithoutRunning()
    {
        var calls = 0;
        await using var host = await TestHost.StartAsync([PluginFolders.Test("stuck", "hang-in-hook")], o =>
        {
            o.HookBreakerTimeouts = 2;
            o.HookBreakerPause = TimeSpan.FromSeconds(30);
        }, mapApplication: app => app.MapPost("/app/run", () => Interlocked.Increment(ref calls))
            .WithPluginHooks(new EndpointHooks { Inbound = s_quickClosed }));
        await host.WaitForStateAsync("stuck", WorkerState.Ready);

        using var first = await host.Client.PostAsync("/app/run", new StringContent("x"));
        using var second = await host.Client.PostAsync("/app/run", new StringContent("x"));
        using var paused = await host.Client.PostAsync("/app/run", new StringContent("x"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, first.StatusCode);
        Assert.Equal(HttpStatusCode.GatewayTimeout, second.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, paused.StatusCode);
        Assert.Equal("circuit-open", Assert.Single(paused.Headers.GetValues("X-Plugin-Error")));
        Assert.InRange(int.Parse(Assert.Single(paused.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture), 1, 30);
        Assert.Contains("paused after repeated timeouts", await paused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task ARestartedPlugin_IsCalledAgainAtOnce_ItsNewWorkerStartingUnpaused()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("stuck", "hang-in-hook")], o =>
        {
            o.HookBreakerTimeouts = 1;
            o.HookBreakerPause = TimeSpan.FromMinutes(5);
        });
        var first = await host.WaitForStateAsync("stuck", WorkerState.Ready);
        Assert.Equal(CallFailureKind.TimedOut, await SkippedKindAsync(host));
        Assert.Equal(CallFailureKind.CircuitOpen, await SkippedKindAsync(host));

        (await host.Admin.PostAsync("/admin/api/plugins/stuck/restart", null)).EnsureSuccessStatusCode();
        await SupervisorTests.WaitUntilAsync(() => host.Supervisor("stuck").Snapshot is { State: WorkerState.Ready } s && s.Pid != first.Pid, TimeSpan.FromSeconds(30));
        Assert.NotEqual(first.Pid, host.Supervisor("stuck").Snapshot.Pid);

        // Called, so it times out again rather than being skipped.
        Assert.Equal(CallFailureKind.TimedOut, await SkippedKindAsync(host));
    }

    [Fact]
    public async Task ZeroTimeouts_NeverPause_EveryCallReachesThePlugin()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("stuck", "hang-in-hook")], o => o.HookBreakerTimeouts = 0);
        await host.WaitForStateAsync("stuck", WorkerState.Ready);

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(CallFailureKind.TimedOut, await SkippedKindAsync(host));
        }
    }

    private static async Task<CallFailureKind> SkippedKindAsync(TestHost host) => (await SkippedAsync(host)).Kind;

    private static async Task<CallFailure> SkippedAsync(TestHost host)
    {
        var outcome = await host.Hooks.DispatchAsync(s_quick, WalkingSkeletonTests.Input("x"));
        return Assert.Single(Assert.IsType<HookOutcome.Continued>(outcome).Skipped);
    }

    private static string BodyOf(HookOutcome outcome)
    {
        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Empty(continued.Skipped);
        return System.Text.Encoding.UTF8.GetString(continued.Body.Span);
    }
}
