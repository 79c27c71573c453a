using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>The host's runtime directory removed under it, as <c>rm -rf /tmp/*</c> or the end of a login session does.</summary>
public sealed class CallbackSocketTests
{
    [Fact]
    public async Task ARuntimeDirectoryRemovedUnderTheHost_IsMadeAgain_SoANewWorkerStillReachesTheHost()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        var first = await host.WaitForStateAsync("t", WorkerState.Ready);
        var runtime = host.Services.GetRequiredService<HostRuntimeDirectory>();

        Directory.Delete(runtime.Path, recursive: true);
        await ReplicaTests.Until(() => Task.FromResult(File.Exists(runtime.CallbackSocket)), "the callback socket made again");
        (await host.Admin.PostAsync("/admin/api/plugins/t/restart", null)).EnsureSuccessStatusCode();
        await host.WaitForAsync("t", s => s.State == WorkerState.Ready && s.Pid != first.Pid, "a new worker");
        // The new worker reads its settings through the host's callback socket.
        using var settings = await host.Admin.GetAsync("/plugins/t/settings");
        var health = await CallbackSocketEntryAsync(host);

        Assert.True(settings.IsSuccessStatusCode, $"the new worker's settings read through the host answered {(int)settings.StatusCode}: {await settings.Content.ReadAsStringAsync()}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(runtime.Path));
        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Contains("made again", health.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACallbackSocketThatCannotBeMadeAgain_MakesTheHostUnhealthy_SayingWhy_UntilItCan()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        host.ExpectErrors = true; // the watch logs its failure, and the health service an unhealthy check, as errors
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var runtime = host.Services.GetRequiredService<HostRuntimeDirectory>();

        // A file where the directory was: nothing can be made there.
        Directory.Delete(runtime.Path, recursive: true);
        await File.WriteAllTextAsync(runtime.Path, "in the way");
        JsonElement unhealthy = default;
        await ReplicaTests.Until(async () => (unhealthy = await CallbackSocketEntryAsync(host)).GetProperty("description").GetString()!.Contains("cannot be made again", StringComparison.Ordinal), "the watch's failure in /healthz");
        File.Delete(runtime.Path);
        await ReplicaTests.Until(() => Task.FromResult(File.Exists(runtime.CallbackSocket)), "the callback socket made again");
        var healthy = await CallbackSocketEntryAsync(host);

        Assert.Equal("Unhealthy", unhealthy.GetProperty("status").GetString());
        Assert.Contains("workers started from now on cannot reach it", unhealthy.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", healthy.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AHostWhoseStartFailsAfterTheWatchBegan_LeavesNoRuntimeDirectoryBehind()
    {
        var root = Directory.CreateTempSubdirectory("gpt-").FullName;
        try
        {
            // A service of the application's that fails its start after the plugin host's have started.
            var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync([], o => o.RuntimeDirectory = Path.Combine(root, "run"), root, services: s => s.AddHostedService<FailingStart>()));
            Directory.Delete(root, recursive: true);

            // Services disposed without a stop: a watch that went on made the runtime directory again within a health interval (500 ms here).
            await Task.Delay(TimeSpan.FromSeconds(1.5));

            Assert.Equal(FailingStart.Message, failed.Message);
            Assert.False(Directory.Exists(root), $"{root} was made again after the host was disposed");
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private sealed class FailingStart : Microsoft.Extensions.Hosting.IHostedService
    {
        public const string Message = "the application's own service failed its start";

        public Task StartAsync(CancellationToken cancellationToken) => throw new InvalidOperationException(Message);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static async Task<JsonElement> CallbackSocketEntryAsync(TestHost host)
    {
        using var response = await host.Client.GetAsync("/healthz");
        var report = await response.Content.ReadFromJsonAsync<JsonElement>();
        return report.GetProperty("entries").GetProperty("callback-socket");
    }
}
