using System.Text;
using GrpcPlugins.Supervisor.Limits;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class HelperOwnersTests
{
    private const string Token = "PLUGIN_TOKEN";

    // Pids 100 and 300 are workers (their groups); 200 a helper of 100's in a session of its own;
    // 400 a process of someone else's.
    private readonly Dictionary<int, string> _environments = new()
    {
        [200] = "HOME=/root\0PLUGIN_TOKEN=aaa\0",
        [400] = "HOME=/root\0PLUGIN_TOKEN=aaaa\0",
        [500] = "PLUGIN_TOKEN=bbb\0",
    };

    private readonly List<int> _reads = [];

    [Fact]
    public void AHelperOutsideItsWorkersGroup_IsCountedInIt_WithItsMemoryThreadsAndCpu()
    {
        var owners = Owners();
        using var worker = owners.Follow(100, Token, "aaa");

        var sums = ProcessGroups.Sum(owners.Attribute([Worker(100, started: 1000), Process(200, group: 200, started: 1200), Process(400, group: 400, started: 1300)]), 100_000);

        Assert.Equal(new GroupUsage(500 + 70, 20 + 3, 250 + 40, Helpers: 1, HelperRssBytes: 70), sums[100]);
        Assert.False(sums.ContainsKey(200));
        // A token the helper's only starts with is not its token.
        Assert.Equal(new GroupUsage(70, 3, 40), sums[400]);
    }

    [Fact]
    public void ALimitsMessage_NamesTheHelpersCountedInTheGroup_AndTheirShareOfItsMemory()
    {
        const long MiB = 1024 * 1024;

        Assert.Equal("worker pid 7's process group", new GroupUsage(400 * MiB, 5).Of("worker pid 7's process group"));
        Assert.Equal("worker pid 7's process group and its helper in a session of its own (300 MiB of it)", new GroupUsage(400 * MiB, 5, 0, 1, 300 * MiB).Of("worker pid 7's process group"));
        Assert.Equal("worker pid 7's process group and its 2 helpers in sessions of their own (300 MiB of it)", new GroupUsage(400 * MiB, 5, 0, 2, 300 * MiB).Of("worker pid 7's process group"));
    }

    [Fact]
    public void AProcessesEnvironment_IsReadOnce_AndOneWithoutATokenAgainOnlyForAWorkerStartedNoLaterThanIt()
    {
        var owners = Owners();
        using var first = owners.Follow(100, Token, "aaa");
        IReadOnlyCollection<ProcessStat> processes = [Worker(100, started: 1000), Process(200, group: 200, started: 1200), Process(400, group: 400, started: 900), Process(500, group: 500, started: 2500)];
        owners.Attribute(processes);
        owners.Attribute(processes);
        Assert.Equal([200, 400, 500], _reads.Order());

        // 500 started after this worker and may hold its token; 400 started before it and cannot.
        _reads.Clear();
        using var second = owners.Follow(300, Token, "bbb");
        var attributed = owners.Attribute([.. processes, Worker(300, started: 2000)]);

        Assert.Equal([500], _reads);
        Assert.Equal(300, attributed.Single(p => p.Pid == 500).Group);
    }

    [Fact]
    public void AHelperOfAWorkerThatEnded_IsNoOnesAnymore_EvenWhenAnotherWorkerGetsItsPid()
    {
        var owners = Owners();
        var ended = owners.Follow(100, Token, "aaa");
        IReadOnlyCollection<ProcessStat> processes = [Worker(100, started: 1000), Process(200, group: 200, started: 1200)];
        Assert.Equal(100, owners.Attribute(processes).Single(p => p.Pid == 200).Group);

        ended.Dispose();
        Assert.Equal(200, owners.Attribute(processes).Single(p => p.Pid == 200).Group);
        using var reused = owners.Follow(100, Token, "ccc");

        Assert.Equal(200, owners.Attribute([Worker(100, started: 3000), Process(200, group: 200, started: 1200)]).Single(p => p.Pid == 200).Group);
    }

    [Fact]
    public void WithNoWorkerFollowed_NoEnvironmentIsRead()
    {
        var owners = Owners();
        owners.Follow(100, Token, "aaa").Dispose();

        owners.Attribute([Worker(100, started: 1000), Process(200, group: 200, started: 1200)]);

        Assert.Empty(_reads);
    }

    private HelperOwners Owners() => new(pid =>
    {
        _reads.Add(pid);
        return _environments.TryGetValue(pid, out var environment) ? Encoding.UTF8.GetBytes(environment) : null;
    });

    private static ProcessStat Worker(int pid, long started) => new(pid, 1, pid, 20, 500, started, (0x5000, 0x7ff0), 250);

    private static ProcessStat Process(int pid, int group, long started) => new(pid, 1, group, 3, 70, started, (0x9000, 0x7ee0), 40);
}
