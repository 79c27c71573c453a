using GrpcPlugins.Supervisor.Limits;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class SharedBeatTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    [Fact]
    public void WatchdogsStartedAtDifferentTimes_WakeOnTheSameBeat_NoLaterThanOneIntervalAway()
    {
        var time = new FakeTimeProvider();
        time.Advance(TimeSpan.FromMilliseconds(30));
        var first = SharedBeat.Until(time, Interval);
        var firstWakes = time.GetTimestamp() + first.Ticks;

        time.Advance(TimeSpan.FromMilliseconds(170));
        var second = SharedBeat.Until(time, Interval);

        Assert.Equal(TimeSpan.FromMilliseconds(220), first);
        Assert.Equal(TimeSpan.FromMilliseconds(50), second);
        Assert.Equal(firstWakes, time.GetTimestamp() + second.Ticks);
    }

    [Fact]
    public void OnTheBeatItself_TheWaitIsAWholeInterval_NeverZero()
    {
        var time = new FakeTimeProvider();
        time.Advance(SharedBeat.Until(time, Interval));

        Assert.Equal(Interval, SharedBeat.Until(time, Interval));
    }
}
