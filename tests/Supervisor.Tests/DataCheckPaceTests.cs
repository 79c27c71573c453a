using GrpcPlugins.Supervisor.Limits;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class DataCheckPaceTests
{
    private const long MiB = 1024 * 1024;
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_quickWalk = TimeSpan.FromMilliseconds(2);

    [Fact]
    public void ADirectoryThatDoesNotGrow_IsMeasuredAtTheInterval()
    {
        Assert.Equal(s_interval, DataCheckPace.Next(s_interval, s_quickWalk, 500 * MiB, 500 * MiB, s_interval, 1024 * MiB));
        Assert.Equal(s_interval, DataCheckPace.Next(s_interval, s_quickWalk, 400 * MiB, 500 * MiB, s_interval, 1024 * MiB));
    }

    [Fact]
    public void ADirectoryGrowingTowardsItsLimit_IsMeasuredAtHalfTheTimeItWouldTakeToReachIt()
    {
        // 100 MiB/s with 400 MiB to go: 4 s away, so measured again in 2 s.
        var pause = DataCheckPace.Next(s_interval, s_quickWalk, 624 * MiB, 524 * MiB, TimeSpan.FromSeconds(1), 1024 * MiB);

        Assert.Equal(TimeSpan.FromSeconds(2), pause);
    }

    [Fact]
    public void SlowGrowth_FarFromTheLimit_KeepsTheInterval()
    {
        Assert.Equal(s_interval, DataCheckPace.Next(s_interval, s_quickWalk, 101 * MiB, 100 * MiB, s_interval, 1024 * MiB));
    }

    [Fact]
    public void TheFastestGrowth_IsMeasuredNoMoreOftenThanTheShortestPause()
    {
        Assert.Equal(DataCheckPace.Shortest, DataCheckPace.Next(s_interval, s_quickWalk, 1023 * MiB, 0, TimeSpan.FromMilliseconds(100), 1024 * MiB));
    }

    [Fact]
    public void WithoutALimit_GrowthDoesNotHurryIt()
    {
        Assert.Equal(s_interval, DataCheckPace.Next(s_interval, s_quickWalk, 900 * MiB, 0, TimeSpan.FromSeconds(1), 0));
    }

    [Fact]
    public void ASlowWalk_StretchesThePause_ToKeepWalkingUnderOnePercentOfTheTime()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), DataCheckPace.Next(s_interval, TimeSpan.FromMilliseconds(300), 10 * MiB, 10 * MiB, s_interval, 1024 * MiB));
        Assert.Equal(TimeSpan.FromSeconds(5), DataCheckPace.Next(s_interval, TimeSpan.FromMilliseconds(50), 624 * MiB, 524 * MiB, TimeSpan.FromSeconds(1), 1024 * MiB));
    }
}
