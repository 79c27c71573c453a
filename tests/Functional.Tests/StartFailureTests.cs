using System.Net;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>A worker that fails its start gives the matching clear error within the start timeout, and the host stays up.</summary>
public sealed class StartFailureTests
{
    [Theory]
    [InlineData("garbage-handshake", "invalid handshake line \"Starting up... hello there!\"")]
    [InlineData("wrong-protocol", "app protocol version '99' is not one the host speaks")]
    [InlineData("crash-at-start", "exited before its handshake (exit code 3)")]
    [InlineData("exit-before-handshake-slowly", "exited before its handshake (exit code 7)")]
    [InlineData("no-handshake", "within its start timeout of 2 s")]
    public async Task BadStart_IsReportedWithItsEvidence_AndTheHostKeepsServing(string mode, string expected)
    {
        var broken = PluginFolders.Test("broken", mode);
        broken["limits"] = new JsonObject { ["startTimeoutSeconds"] = 2 };
        await using var host = await TestHost.StartAsync([PluginFolders.Hello(), broken], o => o.MaxRestarts = 0);
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
        var started = DateTime.UtcNow;
        // Start timeout is per plugin; the broken one gets a short one.
        var snapshot = await host.WaitForStateAsync("broken", WorkerState.CrashLooping, TimeSpan.FromSeconds(30));

        Assert.Contains(expected, snapshot.LastError, StringComparison.Ordinal);
        if (mode == "crash-at-start")
        {
            Assert.Contains("cannot open my database", snapshot.LastError, StringComparison.Ordinal);
        }

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(25));
        await host.WaitForStateAsync("hello", WorkerState.Ready);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/plugins/hello/ping")).StatusCode);
    }

    [Fact]
    public async Task AWorkerThatNeverSaysServing_FailsItsStart_SayingWhatItsProbesGot()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Hello(), new JsonObject
        {
            ["id"] = "never",
            ["version"] = "1.0.0",
            ["command"] = "/usr/bin/python3",
            ["args"] = new JsonArray(TestPaths.NeverServingPlugin),
            // Time enough for Python and grpcio to start on a busy machine and answer several probes.
            ["limits"] = new JsonObject { ["startTimeoutSeconds"] = 5 },
        }], o => o.MaxRestarts = 0);
        host.ExpectErrors = true;

        var snapshot = await host.WaitForStateAsync("never", WorkerState.CrashLooping, TimeSpan.FromSeconds(30));

        // Not "serve sooner": it serves, and says no.
        var said = "gave no healthy probe within its start timeout of 5 s; the last probe got the worker's health service answered NotServing";
        Assert.True(snapshot.LastError?.Contains(said, StringComparison.Ordinal) == true, snapshot.LastError);
        await host.WaitForStateAsync("hello", WorkerState.Ready);
    }
}
