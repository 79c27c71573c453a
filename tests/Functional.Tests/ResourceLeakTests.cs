using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Runs alone: it measures the whole test process's descriptors and threads.</summary>
[CollectionDefinition(nameof(ResourceLeakTests), DisableParallelization = true)]
public sealed class ResourceLeakCollection;

[Collection(nameof(ResourceLeakTests))]
public sealed class ResourceLeakTests
{
    [Fact]
    public async Task ManyRestarts_DoNotGrowTheHostsFileDescriptorsOrThreads()
    {
        var manifest = new JsonObject { ["id"] = "false", ["version"] = "1.0.0", ["command"] = "/bin/false" };
        await using var host = await TestHost.StartAsync([manifest], o =>
        {
            o.MaxRestarts = 1_000_000;
            o.RestartInitialBackoff = TimeSpan.FromMilliseconds(1);
            o.RestartMaxBackoff = TimeSpan.FromMilliseconds(1);
        });
        await WaitForRestartsAsync(host, 50);
        var (fds, threads) = Resources();

        await WaitForRestartsAsync(host, 1050);

        var (fdsAfter, threadsAfter) = Resources();
        Assert.True(fdsAfter - fds < 20, $"file descriptors grew from {fds} to {fdsAfter}");
        Assert.True(threadsAfter - threads < 10, $"threads grew from {threads} to {threadsAfter}");
    }

    private static async Task WaitForRestartsAsync(TestHost host, int restarts)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (host.Supervisor("false").Snapshot.Restarts < restarts)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {host.Supervisor("false").Snapshot.Restarts} restarts");
            await Task.Delay(50);
        }
    }

    private static (int Fds, int Threads) Resources()
    {
        var threads = File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("Threads:", StringComparison.Ordinal));
        return (Directory.GetFiles("/proc/self/fd").Length, int.Parse(threads["Threads:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture));
    }

}
