using GrpcPlugins.Host.Hooks.Breaker;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Host.Tests;

public sealed class HookBreakerTests
{
    private const int Worker = 4242;
    private static readonly TimeSpan s_pause = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Opens_AfterTheConfiguredTimeoutsInARow_AndSkipsUntilThePauseEnds()
    {
        var breaker = Breaker(timeouts: 3);

        Assert.Equal(HookBreakerChange.None, Call(breaker, HookCallEnd.TimedOut));
        Assert.Equal(HookBreakerChange.None, Call(breaker, HookCallEnd.TimedOut));
        Assert.Equal(HookBreakerChange.Opened, Call(breaker, HookCallEnd.TimedOut));

        _time.Advance(TimeSpan.FromSeconds(4));
        var skipped = breaker.Enter(Worker);
        Assert.False(skipped.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(6), skipped.RetryAfter);
        Assert.Equal(new HookBreakerView(HookBreakerState.Open, 3, _time.GetUtcNow() + TimeSpan.FromSeconds(6), 1), breaker.View());
    }

    [Fact]
    public void AnAnswer_ResetsTheCount_SoOnlyTimeoutsInARowOpenIt()
    {
        var breaker = Breaker(timeouts: 2);

        Call(breaker, HookCallEnd.TimedOut);
        Call(breaker, HookCallEnd.Answered);
        Assert.Equal(HookBreakerChange.None, Call(breaker, HookCallEnd.TimedOut));
        Assert.Equal(HookBreakerChange.None, Call(breaker, HookCallEnd.Inconclusive));

        Assert.True(breaker.Enter(Worker).Allowed);
        Assert.Equal(1, breaker.View().ConsecutiveTimeouts);
    }

    [Fact]
    public void AfterThePause_OneTrialGoes_TheOthersWaitForIt_AndItsAnswerCloses()
    {
        var breaker = Opened(timeouts: 1);
        _time.Advance(s_pause);

        var trial = breaker.Enter(Worker);
        var second = breaker.Enter(Worker);

        Assert.True(trial is { Allowed: true, Trial: true });
        Assert.False(second.Allowed);
        Assert.Equal(HookBreakerState.Trial, breaker.View().State);
        Assert.Equal(HookBreakerChange.Closed, breaker.Exit(trial, HookCallEnd.Answered));
        Assert.True(breaker.Enter(Worker) is { Allowed: true, Trial: false });
        Assert.Equal(new HookBreakerView(HookBreakerState.Closed, 0, null, 1), breaker.View());
    }

    [Fact]
    public void ATrialThatTimesOut_PausesAgain_ForAnotherWholePause()
    {
        var breaker = Opened(timeouts: 1);
        _time.Advance(s_pause);

        var trial = breaker.Enter(Worker);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(HookBreakerChange.Reopened, breaker.Exit(trial, HookCallEnd.TimedOut));
        Assert.Equal(s_pause, breaker.Enter(Worker).RetryAfter);
        Assert.Equal(2, breaker.View().TimesOpened);
    }

    [Fact]
    public void ATrialThatEndsInconclusively_LeavesTheNextCallToBeTheTrial()
    {
        var breaker = Opened(timeouts: 1);
        _time.Advance(s_pause);

        var trial = breaker.Enter(Worker);
        Assert.Equal(HookBreakerChange.None, breaker.Exit(trial, HookCallEnd.Inconclusive));

        Assert.True(breaker.Enter(Worker) is { Allowed: true, Trial: true });
    }

    [Fact]
    public void CallsThatStartedBeforeThePause_DoNotCloseIt_WhenTheyAnswerDuringIt()
    {
        var breaker = Breaker(timeouts: 1);
        var early = breaker.Enter(Worker);
        Call(breaker, HookCallEnd.TimedOut);

        Assert.Equal(HookBreakerChange.None, breaker.Exit(early, HookCallEnd.Answered));
        Assert.False(breaker.Enter(Worker).Allowed);
    }

    [Fact]
    public void ANewWorker_StartsClosed_AndTheOldWorkersLateEndsAreIgnored()
    {
        var breaker = Breaker(timeouts: 2);
        var old = breaker.Enter(Worker);
        Call(breaker, HookCallEnd.TimedOut);
        Call(breaker, HookCallEnd.TimedOut);

        Assert.True(breaker.Enter(Worker + 1).Allowed);
        Assert.Equal(HookBreakerChange.None, breaker.Exit(old, HookCallEnd.TimedOut));
        Assert.Equal(new HookBreakerView(HookBreakerState.Closed, 0, null, 1), breaker.View());
    }

    [Fact]
    public void ZeroTimeouts_NeverPauses()
    {
        var breaker = Breaker(timeouts: 0);

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(HookBreakerChange.None, Call(breaker, HookCallEnd.TimedOut));
        }

        Assert.True(breaker.Enter(Worker).Allowed);
        Assert.Equal(HookBreakerState.Closed, breaker.View().State);
    }

    [Fact]
    public void AWallClockSteppedBack_DoesNotLengthenThePause()
    {
        var clock = new GrpcPlugins.Tests.SteppingClock();
        var breaker = new HookBreaker(new HookBreakerSettings(1, s_pause), clock);
        Call(breaker, HookCallEnd.TimedOut);

        // NTP steps the clock back an hour while the pause runs.
        clock.StepWallClock(TimeSpan.FromHours(-1));
        clock.Advance(TimeSpan.FromSeconds(4));
        var during = breaker.Enter(Worker);
        var shown = breaker.View();
        clock.Advance(TimeSpan.FromSeconds(6));
        var after = breaker.Enter(Worker);

        Assert.Equal(TimeSpan.FromSeconds(6), during.RetryAfter);
        Assert.Equal(clock.GetUtcNow(), shown.OpenUntil);
        Assert.True(after is { Allowed: true, Trial: true });
    }

    private HookBreaker Breaker(int timeouts) => new(new HookBreakerSettings(timeouts, s_pause), _time);

    private HookBreaker Opened(int timeouts)
    {
        var breaker = Breaker(timeouts);
        for (var i = 0; i < timeouts; i++)
        {
            Call(breaker, HookCallEnd.TimedOut);
        }

        Assert.Equal(HookBreakerState.Open, breaker.View().State);
        return breaker;
    }

    private static HookBreakerChange Call(HookBreaker breaker, HookCallEnd end)
    {
        var pass = breaker.Enter(Worker);
        Assert.True(pass.Allowed);
        return breaker.Exit(pass, end);
    }
}
