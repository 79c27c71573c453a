using GrpcPlugins.Functional.Tests.Infrastructure;

namespace GrpcPlugins.Functional.Tests;

/// <summary>What the embedding application configures for itself stays its own: the host's callback server reads none of it.</summary>
public sealed class ApplicationConfigurationTests
{
    [Fact]
    public async Task AnApplicationWithKestrelEndpointsConfigured_Starts_OnThem_AndItsWorkersStillReachTheHost()
    {
        var port = LoopbackPort.Free();
        // As production configures Kestrel (appsettings.json's Kestrel:Endpoints, here through the environment).
        var environment = new Dictionary<string, string> { ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{port}" };

        // The callback server bound the application's endpoint first, and the application's start failed.
        await using var host = await HostProcess.StartWithPluginsAsync([PluginFolders.Test("t")], environment);
        using var admin = host.AdminClient();
        await HostProcess.WaitForStateAsync(admin, "t", "Ready");
        using var settings = await admin.GetAsync("/plugins/t/settings");

        Assert.Equal(port, host.Address.Port);
        Assert.Equal(System.Net.HttpStatusCode.OK, settings.StatusCode);
    }
}
