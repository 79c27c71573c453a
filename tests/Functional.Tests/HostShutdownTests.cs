using System.Net;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>A host told to stop (a deploy, a SIGTERM) finishes the plugin calls it had begun before it stops their workers.</summary>
public sealed class HostShutdownTests
{
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
