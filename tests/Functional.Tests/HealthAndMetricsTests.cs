using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

public sealed class HealthAndMetricsTests
{
    [Fact]
    public async Task Healthz_HasAnEntryPerPlugin_AndACrashLoopingOneCountsUntilDisabled()
    {
        var broken = PluginFolders.Test("broken", "crash-at-start");
        await using var host = await TestHost.StartAsync([PluginFolders.Hello(), broken], o => o.MaxRestarts = 0);
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
        await Task.WhenAll(host.WaitForStateAsync("hello", WorkerState.Ready), host.WaitForStateAsync("broken", WorkerState.CrashLooping));

        var unhealthy = await host.Client.GetAsync("/healthz");
        var report = await unhealthy.Content.ReadFromJsonAsync<JsonElement>();
        (await host.Admin.PostAsync("/admin/api/plugins/broken/disable", null)).EnsureSuccessStatusCode();
        var healthy = await host.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);
        Assert.Equal("Healthy", report.GetProperty("entries").GetProperty("plugin:hello").GetProperty("status").GetString());
        Assert.Equal("Unhealthy", report.GetProperty("entries").GetProperty("plugin:broken").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.GetProperty("entries").GetProperty("host").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    [Theory]
    [InlineData(0, 0, "Healthy", "MiB free on the disk of")]
    [InlineData(2, 0, "Degraded", "under PluginHost:MinFreeDiskMiB")]
    [InlineData(20, 0, "Unhealthy", "under a tenth of PluginHost:MinFreeDiskMiB")]
    [InlineData(0, 2, "Degraded", "less than the")]
    public async Task Healthz_SaysWhenTheStatesDiskRunsShort_OrThePluginsDataLimitsExceedIt(int minimumTimesFree, int dataLimitTimesFree, string status, string says)
    {
        // The test host's state lives under the temp directory.
        var freeMiB = (int)(new DriveInfo(Path.GetTempPath()).AvailableFreeSpace / (1024 * 1024));
        await using var host = await TestHost.StartAsync([PluginFolders.Hello()], o =>
        {
            o.MinFreeDiskMiB = minimumTimesFree * freeMiB;
            o.DefaultDataLimitMiB = dataLimitTimesFree == 0 ? 1 : dataLimitTimesFree * freeMiB;
        });
        host.ExpectErrors = status == "Unhealthy"; // the health service logs an unhealthy check as an error
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        using var response = await host.Client.GetAsync("/healthz");
        var report = await response.Content.ReadFromJsonAsync<JsonElement>();

        var entry = report.GetProperty("entries").GetProperty("state-disk");
        Assert.Equal(status, entry.GetProperty("status").GetString());
        Assert.Contains(says, entry.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task APluginWhoseConfigureThrows_NeverGetsReady_AndItsErrorQuotesTheException()
    {
        // The Sdk builds the plugin beside its server's start; a throw must still end the start.
        await using var host = await TestHost.StartAsync([PluginFolders.Test("thrower", "throw-in-configure")], o => o.MaxRestarts = 0);
        host.ExpectErrors = true; // a deliberately broken plugin logs errors
        await host.WaitForStateAsync("thrower", WorkerState.CrashLooping);

        var error = host.Supervisor("thrower").Snapshot.LastError;
        Assert.Contains("before its handshake", error, StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException: Configure failed on purpose", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ArePrometheusText_WithCallsByOutcome_RestartsAndMemory()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Hello());
        await host.WaitForStateAsync("hello", WorkerState.Ready);
        await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("hello"));
        (await host.Client.GetAsync("/plugins/hello/ping")).EnsureSuccessStatusCode();

        var text = await host.Client.GetStringAsync("/metrics");

        Assert.Contains("plugin_hook_calls_total{", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"Modify\"", text, StringComparison.Ordinal);
        Assert.Contains("plugin_route_calls_total{", text, StringComparison.Ordinal);
        Assert.Contains("plugin_hook_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("plugin_memory_bytes{", text, StringComparison.Ordinal);
        Assert.Contains("plugin_restarts_total{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ShowOnlyTheirOwnHostsPlugins_AndOutliveAnotherHostInTheProcess()
    {
        // Two hosts in one process (an application's tests, or ours run in parallel) name their
        // meters alike, and an exporter listening by name took the other host's plugins in: with
        // a plugin of one id in both, the value last observed was shown (our CI saw a thread limit
        // of 1024 where this host set 200).
        await using var other = await TestHost.StartAsync(PluginFolders.Test("theirs"));
        await using var host = await TestHost.StartAsync(PluginFolders.Test("mine"));
        await Task.WhenAll(other.WaitForStateAsync("theirs", WorkerState.Ready), host.WaitForStateAsync("mine", WorkerState.Ready));
        var beside = await host.Client.GetStringAsync("/metrics");

        // The other host's meters end with it; this host's go on.
        await other.DisposeAsync();
        // Twice: an exporter shows a metric whose instruments all ended once more, then drops it.
        await host.Client.GetStringAsync("/metrics");
        var after = await host.Client.GetStringAsync("/metrics");

        Assert.Matches("plugin_threads_limit\\{[^}]*plugin=\"mine\"", beside);
        Assert.DoesNotContain("plugin=\"theirs\"", beside, StringComparison.Ordinal);
        Assert.Matches("plugin_threads_limit\\{[^}]*plugin=\"mine\"", after);
        Assert.Matches("plugin_state\\{[^}]*plugin=\"mine\"", after);
    }
}

public sealed class TraceContextTests
{
    [Fact]
    public async Task HostSpan_IsTheParentOfThePluginsSpan()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("traced", "trace"));
        await host.WaitForStateAsync("traced", WorkerState.Ready);
        using var source = new System.Diagnostics.ActivitySource("test.host");
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == "test.host",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var span = source.StartActivity("host request")!;

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input(""));

        var seen = System.Text.Encoding.UTF8.GetString(Assert.IsType<GrpcPlugins.Host.Hooks.HookOutcome.Continued>(outcome).Body.Span).Split('|');
        Assert.Equal(span.TraceId.ToString(), seen[0]);
        Assert.Equal(span.SpanId.ToString(), seen[1]);
    }
}
