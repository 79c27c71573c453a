using System.Text;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>The host's start sequence as a worker sees it: health probes, then the Describe answer that counts.</summary>
public sealed class StartSequenceTests
{
    [Fact]
    public async Task ARuntimeDirectoryAtTheLongestAllowed_StillStartsAPluginWithTheLongestSocketName()
    {
        // 42 bytes exactly, the budget HostRuntimeDirectory promises; the id is cut to 24 in the socket folder's name.
        var runtime = Path.Combine(Path.GetTempPath(), "gpt-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"))[..42];
        Directory.CreateDirectory(runtime);
        try
        {
            var id = new string('p', 30);
            await using var host = await TestHost.StartAsync([PluginFolders.Test(id)], o => o.RuntimeDirectory = runtime);

            var ready = await host.WaitForStateAsync(id, WorkerState.Ready);

            Assert.NotNull(ready.Pid);
        }
        finally
        {
            Directory.Delete(runtime, recursive: true);
        }
    }

    [Fact]
    public async Task WorkerNotServingAtFirst_IsDescribedOnceItServes_AndItsEarlyRefusalIsNoStartFailure()
    {
        await using var host = await TestHost.StartAsync(new JsonObject
        {
            ["id"] = "warming",
            ["version"] = "1.0.0",
            ["command"] = "/usr/bin/python3",
            ["args"] = new JsonArray(TestPaths.SlowToServePlugin),
            ["hooks"] = new JsonArray("request"),
        });

        var ready = await host.WaitForStateAsync("warming", WorkerState.Ready);
        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("report"));

        // The Describe sent beside the first probe (refused: not serving yet) did not fail
        // the start; the one asked after SERVING was answered, once.
        Assert.Equal(0, ready.Restarts);
        Assert.Null(ready.LastError);
        var continued = Assert.IsType<HookOutcome.Continued>(outcome);
        Assert.Empty(continued.Skipped);
        Assert.Matches("^describe refused [01], answered 1$", Encoding.UTF8.GetString(continued.Body.Span));
    }
}
