using System.Diagnostics;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class ProcessGroupSamplerTests
{
    [Fact]
    public void Watchdogs_WithinTheMaximumAge_ShareOnePassOverProc()
    {
        var time = new FakeTimeProvider();
        var passes = 0;
        var sampler = new ProcessGroupSampler(time, TimeSpan.FromMilliseconds(50), () =>
        {
            passes++;
            return new Dictionary<int, GroupUsage> { [100] = new(1000 * passes, passes), [200] = new(2000, 7) };
        });

        Assert.Equal(new GroupUsage(1000, 1), sampler.Read(100));
        time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Equal(new GroupUsage(2000, 7), sampler.Read(200));
        Assert.Equal(new GroupUsage(1000, 1), sampler.Read(100));
        Assert.Equal(1, passes);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(new GroupUsage(2000, 2), sampler.Read(100));
        Assert.Equal(2, passes);
        Assert.Equal(2, sampler.Passes);
    }

    [Fact]
    public void AGroupsCpuTime_IsEveryProcessOfItsSummed_AndNoOtherGroups()
    {
        var sums = ProcessGroups.Sum(
        [
            new ProcessStat(Pid: 100, ParentPid: 1, Group: 100, Threads: 20, RssBytes: 500, StartTicks: 1000, Layout: (0x5000, 0x7ff0), CpuTicks: 250),
            new ProcessStat(Pid: 101, ParentPid: 100, Group: 100, Threads: 1, RssBytes: 50, StartTicks: 1500, Layout: (0x9000, 0x7ee0), CpuTicks: 30),
            new ProcessStat(Pid: 200, ParentPid: 100, Group: 200, Threads: 1, RssBytes: 50, StartTicks: 1500, Layout: (0x9000, 0x7ee0), CpuTicks: 999),
        ],
            100_000);

        Assert.Equal(280, sums[100].CpuTicks);
        Assert.Equal(TimeSpan.FromSeconds(2.8), sums[100].Cpu);
    }

    [Fact]
    public void AGroupThePassDidNotSee_ReadsAsNothingUsed()
    {
        var sampler = new ProcessGroupSampler(new FakeTimeProvider(), TimeSpan.FromMilliseconds(50), () => new Dictionary<int, GroupUsage>());

        Assert.Equal(default, sampler.Read(12345));
    }

    [Fact]
    public void AChildStillOnItsParentsPages_CountsItsThreads_NotItsMemoryAgain_UntilItsThirdSecond()
    {
        const long Now = 100_000;
        var sums = ProcessGroups.Sum(
        [
            new ProcessStat(Pid: 100, ParentPid: 1, Group: 100, Threads: 20, RssBytes: 500, StartTicks: 1000, Layout: (0x5000, 0x7ff0)),
            // Between its fork (or vfork) and its exec: its parent's layout, a tick old.
            new ProcessStat(Pid: 101, ParentPid: 100, Group: 100, Threads: 1, RssBytes: 480, StartTicks: Now - 1, Layout: (0x5000, 0x7ff0)),
            // Exec'd: a layout of its own.
            new ProcessStat(Pid: 102, ParentPid: 100, Group: 100, Threads: 1, RssBytes: 50, StartTicks: Now - 1, Layout: (0x9000, 0x7ee0)),
            // Forked and never exec'd, three seconds ago: a worker of its own, counted.
            new ProcessStat(Pid: 103, ParentPid: 100, Group: 100, Threads: 1, RssBytes: 70, StartTicks: Now - 300, Layout: (0x5000, 0x7ff0)),
            // Its parent's layout, but in a group of its own: not the parent's to answer for.
            new ProcessStat(Pid: 200, ParentPid: 100, Group: 200, Threads: 1, RssBytes: 500, StartTicks: Now - 1, Layout: (0x5000, 0x7ff0)),
            // A layout the kernel does not show (0): counted.
            new ProcessStat(Pid: 300, ParentPid: 1, Group: 300, Threads: 2, RssBytes: 10, StartTicks: 1000, Layout: default),
            new ProcessStat(Pid: 301, ParentPid: 300, Group: 300, Threads: 1, RssBytes: 10, StartTicks: Now - 1, Layout: default),
        ],
            Now);

        Assert.Equal(new GroupUsage(620, 23), sums[100]);
        Assert.Equal(new GroupUsage(500, 1), sums[200]);
        Assert.Equal(new GroupUsage(20, 3), sums[300]);
    }

    [Fact]
    public void OneRealPass_CountsThisProcessesMemoryAndThreadsInItsOwnGroup()
    {
        var groups = ProcessGroups.ReadAllGroups();
        var stat = File.ReadAllText("/proc/self/stat");
        var group = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        var own = ProcessGroups.ReadRss(Environment.ProcessId);

        var threads = Directory.GetDirectories("/proc/self/task").Length;

        Assert.True(own > 0);
        Assert.True(groups[group].RssBytes >= own, $"group {group} has {groups[group].RssBytes} bytes, this process alone {own}");
        // The same figure through the one-group reading, within what a second pass may add.
        Assert.InRange(ProcessGroups.ReadGroupRss(group), groups[group].RssBytes / 2, groups[group].RssBytes * 2);
        // Threads as the kernel counts them (its task directory), within what the test runner starts or ends meanwhile.
        Assert.InRange(ProcessGroups.ReadUsage(Environment.ProcessId).Threads, threads / 2, threads * 2);
        Assert.True(groups[group].Threads >= ProcessGroups.ReadUsage(Environment.ProcessId).Threads / 2);
    }

    [Fact]
    public async Task TheWatchdogsPass_SumsAGroupsThreadsAndMemory_FromEveryProcessInIt()
    {
        // Two processes in a group of their own: a shell and the sleep it starts.
        using var leader = Process.Start(new ProcessStartInfo("setsid", ["sh", "-c", "sleep 30 & sleep 30; wait"]) { RedirectStandardInput = true })!;
        try
        {
            GroupUsage usage = default;
            for (var i = 0; i < 100 && usage.Threads < 3; i++)
            {
                await Task.Delay(20);
                usage = ProcessGroups.ReadAllGroups().GetValueOrDefault(leader.Id);
            }

            Assert.Equal(3, usage.Threads);
            Assert.True(usage.RssBytes > ProcessGroups.ReadRss(leader.Id), $"the group's {usage.RssBytes} bytes are more than its leader's alone");
        }
        finally
        {
            ProcessSignals.SignalGroup(leader.Id, 9);
            await leader.WaitForExitAsync();
        }
    }
}
