using GrpcPlugins.Supervisor.Policies;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class RestartTrackerTests
{
    private static readonly RestartPolicy s_policy = RestartPolicy.Default with { Jitter = 0 };

    [Fact]
    public void Backoff_DoublesFromTheInitialDelay_UpToTheMaximum()
    {
        var time = new FakeTimeProvider();
        var tracker = new RestartTracker(s_policy with { MaxRestarts = 100 }, time);

        var delays = new List<TimeSpan>();
        for (var i = 0; i < 10; i++)
        {
            delays.Add(tracker.OnEnded(abnormal: true, readyAt: null).Delay);
            time.Advance(TimeSpan.FromSeconds(61));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(200), delays[0]);
        Assert.Equal(TimeSpan.FromMilliseconds(400), delays[1]);
        Assert.Equal(TimeSpan.FromMilliseconds(800), delays[2]);
        Assert.Equal(TimeSpan.FromSeconds(30), delays[9]);
    }

    [Fact]
    public void Jitter_SpreadsEachDelayWithinItsFraction()
    {
        var low = new RestartTracker(RestartPolicy.Default, new FakeTimeProvider(), () => 0.0).OnEnded(true, null).Delay;
        var high = new RestartTracker(RestartPolicy.Default, new FakeTimeProvider(), () => 1.0).OnEnded(true, null).Delay;

        Assert.Equal(160, low.TotalMilliseconds, 3);
        Assert.Equal(240, high.TotalMilliseconds, 3);
    }

    [Fact]
    public void StablePeriod_ResetsTheBackoff()
    {
        var time = new FakeTimeProvider();
        var tracker = new RestartTracker(s_policy, time);
        tracker.OnEnded(true, null);
        tracker.OnEnded(true, null);
        var readyAt = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(60));

        var decision = tracker.OnEnded(true, readyAt);

        Assert.Equal(TimeSpan.FromMilliseconds(200), decision.Delay);
    }

    [Fact]
    public void MoreRestartsThanTheLimitWithinTheWindow_TripTheBreaker()
    {
        var time = new FakeTimeProvider();
        var tracker = new RestartTracker(s_policy, time);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(tracker.OnEnded(true, null).Restart);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        var sixth = tracker.OnEnded(true, null);

        Assert.True(sixth.CrashLooping);
        Assert.False(sixth.Restart);
        Assert.Equal(6, sixth.RestartsInWindow);
    }

    [Fact]
    public void RestartsOutsideTheWindow_DoNotCount()
    {
        var time = new FakeTimeProvider();
        var tracker = new RestartTracker(s_policy, time);
        for (var i = 0; i < 20; i++)
        {
            Assert.False(tracker.OnEnded(true, null).CrashLooping);
            time.Advance(TimeSpan.FromSeconds(15));
        }
    }

    [Fact]
    public void AWallClockSteppedBack_KeepsNoOldRestartsInTheWindow_NorTheBackoffFromResetting()
    {
        var time = new GrpcPlugins.Tests.SteppingClock();
        var tracker = new RestartTracker(s_policy, time);
        for (var i = 0; i < 5; i++)
        {
            tracker.OnEnded(true, null);
            time.Advance(TimeSpan.FromSeconds(15));
        }

        var readyAt = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(60));
        // NTP steps the clock back an hour: on the wall clock, the five restarts are an hour ahead.
        time.StepWallClock(TimeSpan.FromHours(-1));
        var decision = tracker.OnEnded(true, readyAt);

        Assert.False(decision.CrashLooping);
        Assert.Equal(1, decision.RestartsInWindow);
        Assert.Equal(TimeSpan.FromMilliseconds(200), decision.Delay);
    }

    [Theory]
    [InlineData("Permanent", false, true)]
    [InlineData("Permanent", true, true)]
    [InlineData("Transient", false, false)]
    [InlineData("Transient", true, true)]
    [InlineData("Temporary", true, false)]
    public void Mode_DecidesWhichEndsRestart(string mode, bool abnormal, bool restarts)
    {
        var tracker = new RestartTracker(s_policy with { Mode = Enum.Parse<RestartMode>(mode) }, new FakeTimeProvider());

        Assert.Equal(restarts, tracker.OnEnded(abnormal, null).Restart);
    }

    [Fact]
    public void Reset_ClearsTheBreakerHistory()
    {
        var tracker = new RestartTracker(s_policy with { MaxRestarts = 1 }, new FakeTimeProvider());
        tracker.OnEnded(true, null);
        Assert.True(tracker.OnEnded(true, null).CrashLooping);

        tracker.Reset();

        Assert.True(tracker.OnEnded(true, null).Restart);
    }
}
