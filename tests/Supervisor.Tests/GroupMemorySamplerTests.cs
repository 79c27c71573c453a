using GrpcPlugins.Supervisor.Limits;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class GroupMemorySamplerTests
{
    [Fact]
    public void Watchdogs_WithinTheMaximumAge_ShareOnePassOverProc()
    {
        var time = new FakeTimeProvider();
        var passes = 0;
        var sampler = new GroupMemorySampler(time, TimeSpan.FromMilliseconds(50), () =>
        {
            passes++;
            return new Dictionary<int, long> { [100] = 1000 * passes, [200] = 2000 };
        });

        Assert.Equal(1000, sampler.ReadGroupRss(100));
        time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Equal(2000, sampler.ReadGroupRss(200));
        Assert.Equal(1000, sampler.ReadGroupRss(100));
        Assert.Equal(1, passes);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2000, sampler.ReadGroupRss(100));
        Assert.Equal(2, passes);
        Assert.Equal(2, sampler.Passes);
    }

    [Fact]
    public void AGroupThePassDidNotSee_ReadsAsZero()
    {
        var sampler = new GroupMemorySampler(new FakeTimeProvider(), TimeSpan.FromMilliseconds(50), () => new Dictionary<int, long>());

        Assert.Equal(0, sampler.ReadGroupRss(12345));
    }

    [Fact]
    public void OneRealPass_CountsThisProcessInItsOwnGroup()
    {
        var groups = ProcessTreeMemory.ReadAllGroups();
        var stat = File.ReadAllText("/proc/self/stat");
        var group = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        var own = ProcessTreeMemory.ReadRss(Environment.ProcessId);

        Assert.True(own > 0);
        Assert.True(groups[group] >= own, $"group {group} has {groups[group]} bytes, this process alone {own}");
        // The same figure through the one-group reading, within what a second pass may add.
        Assert.InRange(ProcessTreeMemory.ReadGroupRss(group), groups[group] / 2, groups[group] * 2);
    }
}
