using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A plugin writing its settings from many tasks at once (a bug: per-request state kept in
/// settings). The host takes its calls a few at a time and the store one write at a time,
/// so everyone else is still served; how fast is the bench's (make bench ONLY=settings).
/// </summary>
public sealed class SettingsStormTests
{
    private static readonly HookPoint s_quiet = new("quiet", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2));

    [Fact]
    public async Task APluginStormingItsSettings_LosesNoAcknowledgedWrite_AndOthersAreServedMeanwhile()
    {
        var writer = PluginFolders.Test("storm");
        writer["permissions"] = new JsonArray("settings.read", "settings.write");
        var other = PluginFolders.Test("other", "normal", "--also-hook", "quiet");
        other["hooks"] = new JsonArray("request", "quiet");
        // Unpaced: this storm is about the turns the host gives its calls (the pace has its own test).
        await using var host = await TestHost.StartAsync([writer, other], o => o.SettingsWritesPerSecond = 0);
        await Task.WhenAll(host.WaitForStateAsync("storm", WorkerState.Ready), host.WaitForStateAsync("other", WorkerState.Ready));

        var storm = host.Admin.PostAsync("/plugins/storm/settings-storm?writers=64&ms=3000", null);
        var hooks = 0;
        var adminWrites = 0;
        while (!storm.IsCompleted)
        {
            var outcome = await host.Hooks.DispatchAsync(s_quiet, WalkingSkeletonTests.Input("x"));
            Assert.Empty(outcome.Skipped);
            hooks++;
            using var put = await host.Admin.PutAsync("/admin/api/plugins/other/settings", SettingsAndAdminTests.Json($$"""{"greeting":"admin {{adminWrites}}"}"""));
            put.EnsureSuccessStatusCode();
            adminWrites++;
        }

        var result = await (await storm).Content.ReadAsStringAsync();
        var written = long.Parse(result.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/storm/settings");

        Assert.EndsWith("written, 0 refused", result, StringComparison.Ordinal);
        Assert.True(written > 0, result);
        Assert.Equal(written, stored.GetProperty("revision").GetInt64());
        Assert.True(hooks > 0 && adminWrites > 0);
        Assert.Equal(adminWrites, (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/other/settings")).GetProperty("revision").GetInt64());
    }
}

/// <summary>A plugin leaking connections to the host (a gRPC channel per call, never disposed) cannot use up the host's file descriptors.</summary>
/// <remarks>Runs alone, as the resource leak tests do: it counts the whole test process's descriptors, which a test beside it would move.</remarks>
[Collection(nameof(ResourceLeakTests))]
public sealed class HostConnectionLimitTests
{
    [Fact]
    public async Task APluginHoldingTooManyConnectionsToTheHost_HasTheExtraOnesClosed_AndItsCallsStillWork()
    {
        var leaky = PluginFolders.Test("leaky");
        leaky["permissions"] = new JsonArray("settings.read", "settings.write");
        await using var host = await TestHost.StartAsync([leaky], o => o.MaxHostConnectionsPerPlugin = 8);
        await host.WaitForStateAsync("leaky", WorkerState.Ready);
        var fdsBefore = Directory.GetFiles("/proc/self/fd").Length;

        using var held = await host.Admin.PostAsync("/plugins/leaky/hold-host-connections?n=40", null);
        var answer = await held.Content.ReadAsStringAsync();
        using var write = await host.Admin.PostAsync("/plugins/leaky/settings", SettingsAndAdminTests.Json("""{"greeting":"still works"}"""));

        // The Sdk's own connection to the host counts too, if it has one open: 7 or 8 of the 40 stay.
        Assert.Matches("^[78] open, 3[23] closed$", answer);
        Assert.Equal("revision 1", await write.Content.ReadAsStringAsync());
        Assert.InRange(Directory.GetFiles("/proc/self/fd").Length, 0, fdsBefore + 12);
    }
}
