using GrpcPlugins.Supervisor.Limits;
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
    public void AGroupThePassDidNotSee_ReadsAsNothingUsed()
    {
        var sampler = new ProcessGroupSampler(new FakeTimeProvider(), TimeSpan.FromMilliseconds(50), () => new Dictionary<int, GroupUsage>());

        Assert.Equal(default, sampler.Read(12345));
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
}
