using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task MissingRequiredSettings_KeepThePluginPendingConfig_UntilTheyAreSet()
    {
        var manifest = PluginFolders.Test("needs");
        manifest["settingsSchema"]!["required"] = new JsonArray("greeting");
        await using var host = await TestHost.StartAsync(manifest);

        var pending = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/needs");
        var enable = await host.Admin.PostAsync("/admin/api/plugins/needs/enable", null);
        var put = await host.Admin.PutAsync("/admin/api/plugins/needs/settings", new StringContent("""{"greeting":"now"}""", Encoding.UTF8, "application/json"));
        await host.WaitForStateAsync("needs", WorkerState.Ready);
        var active = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/needs");

        Assert.Equal("pending_config", pending.GetProperty("lifecycle").GetString());
        Assert.Contains("greeting", pending.GetProperty("lifecycleReason").GetString(), StringComparison.Ordinal);
        Assert.Equal("Stopped", pending.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, enable.StatusCode);
        Assert.Contains("required settings missing: greeting", await enable.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        put.EnsureSuccessStatusCode();
        Assert.Equal("active", active.GetProperty("lifecycle").GetString());
        var events = active.GetProperty("recentEvents").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        // The refused enable is an event of its own, and so is the write that let it start.
        Assert.Equal(["installed", "pending-config", "pending-config", "settings-changed", "activated"], events);
    }

    [Fact]
    public async Task ConfiguredHookOrder_ComesBeforeIds()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t-one"), PluginFolders.Test("t-two")], o => o.HookOrder["request"] = ["t-two", "t-one"]);
        await Task.WhenAll(host.WaitForStateAsync("t-one", WorkerState.Ready), host.WaitForStateAsync("t-two", WorkerState.Ready));

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("start"));

        Assert.Equal("start|t-two|t-one", Encoding.UTF8.GetString(Assert.IsType<HookOutcome.Continued>(outcome).Body.Span));
    }

    [Fact]
    public async Task PluginKilledMidCall_IsSkippedAtAFailOpenPoint_AndRestarted()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("victim", "slow-hook", "5000"), PluginFolders.Test("after"));
        var first = await host.WaitForStateAsync("victim", WorkerState.Ready);
        await host.WaitForStateAsync("after", WorkerState.Ready);
        var slowPoint = new HookPoint("request", HookFailureMode.FailOpen, TimeSpan.FromSeconds(10));

        var call = host.Hooks.DispatchAsync(slowPoint, WalkingSkeletonTests.Input("x")).AsTask();
        await Task.Delay(500);
        GrpcPlugins.Supervisor.Processes.ProcessSignals.SignalProcess(first.Pid!.Value, GrpcPlugins.Supervisor.Processes.ProcessSignals.SigKill);
        var outcome = await call.WaitAsync(TimeSpan.FromSeconds(8));

        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Equal("victim", Assert.Single(continued.Skipped).PluginId);
        Assert.Equal("x|after", Encoding.UTF8.GetString(continued.Body.Span));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (host.Supervisor("victim").Snapshot is var s && (s.State != WorkerState.Ready || s.Pid == first.Pid) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.NotEqual(first.Pid, host.Supervisor("victim").Snapshot.Pid);
    }
}
