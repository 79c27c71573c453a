using GrpcPlugins.Functional.Tests.Infrastructure;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A machine behind a corporate proxy names it in every process's environment, the host's
/// included, and its workers inherit it. .NET's HTTP client sends requests through that proxy
/// by default; a worker's Unix socket is nothing a proxy can reach.
/// </summary>
public sealed class ProxyEnvironmentTests
{
    [Fact]
    public async Task AHostWithAProxyInItsEnvironment_StillReachesItsWorkers_AndTheyReachIt()
    {
        // Nothing listens there: a request sent through it fails.
        var proxy = $"http://127.0.0.1:{LoopbackPort.Free()}";
        var environment = new Dictionary<string, string>
        {
            ["http_proxy"] = proxy,
            ["HTTP_PROXY"] = proxy,
            ["https_proxy"] = proxy,
            ["HTTPS_PROXY"] = proxy,
            ["all_proxy"] = proxy,
            ["ALL_PROXY"] = proxy,
        };
        await using var host = await HostProcess.StartWithPluginsAsync([PluginFolders.Hello(), PluginFolders.Test("t")], environment);
        using var admin = host.AdminClient();

        // Host to worker: the start's probes and Describe, then a route and the settings' Configure.
        await HostProcess.WaitForStateAsync(admin, "hello", "Ready");
        await HostProcess.WaitForStateAsync(admin, "t", "Ready");
        using var ping = await admin.GetAsync("/plugins/hello/ping");
        (await admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"past the proxy"}"""))).EnsureSuccessStatusCode();

        // Worker to host: the plugin reads its settings through the host's API.
        using var settings = await admin.GetAsync("/plugins/t/settings");

        Assert.Equal(System.Net.HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, settings.StatusCode);
        Assert.Contains("past the proxy", await settings.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
