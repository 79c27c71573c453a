using System.Net;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>A host told to stop (a deploy, a SIGTERM) finishes the plugin calls it had begun before it stops their workers.</summary>
public sealed class HostShutdownTests
{
    [Theory]
    [InlineData(15)] // SIGTERM: a service manager's stop
    [InlineData(1)] // SIGHUP: the terminal it ran in closed
    public async Task TheReferenceHost_StoppedWithASignal_StopsEveryWorker_LeavesNoRuntimeDirectory_AndSaysItStartedAndStoppedOnce(int signal)
    {
        await using var host = await HostProcess.StartWithPluginsAsync([PluginFolders.Hello(), PluginFolders.Test("t")]);
        using var admin = host.AdminClient();
        await HostProcess.WaitForStateAsync(admin, "hello", "Ready");
        await HostProcess.WaitForStateAsync(admin, "t", "Ready");
        int[] workers = [await HostProcess.PidOfAsync(admin, "hello"), await HostProcess.PidOfAsync(admin, "t")];

        var exitCode = await host.TerminateAsync(TimeSpan.FromSeconds(30), signal);
        var output = host.Output.ToArray();

        Assert.Equal(0, exitCode);
        Assert.All(workers, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"worker {pid} outlived its host"));
        Assert.Empty(Directory.GetDirectories(host.Root!, "gph-*"));
        // The host's callback server is a server of its own, and said so as if it were the application.
        Assert.Single(output, line => line.Contains("Application started.", StringComparison.Ordinal));
        Assert.Single(output, line => line.Contains("Application is shutting down...", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARouteCallInFlight_WhenTheHostIsToldToStop_IsAnsweredByItsPlugin()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var call = host.Admin.PostAsync("/plugins/t/read-with-a-pause?ms=1500", new ByteArrayContent(new byte[100]));
        await SupervisorTests.WaitUntilAsync(() => host.Supervisor("t").InFlight == 1, TimeSpan.FromSeconds(20));

        var pid = host.Supervisor("t").Snapshot.Pid!.Value;

        var stopping = host.StopAsync();
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("100", body);
        Assert.False(Liveness.IsAlive(pid), "the worker outlived its stopped host");
    }
}
