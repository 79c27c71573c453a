using GrpcPlugins.Host.Calls;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Host.Tests;

/// <summary>
/// Which side ended a call decides who is blamed: the deadline is the plugin's
/// fault (504), the caller's cancel is nobody's. The real paths (a hanging plugin,
/// a client that goes away) are the functional timeout and route tests.
/// </summary>
public sealed class CallDeadlineTests
{
    [Fact]
    public void TheDeadlinePassing_CancelsTheToken_AndCountsAsATimeout()
    {
        var time = new FakeTimeProvider();
        using var caller = new CancellationTokenSource();
        using var deadline = new CallDeadline(TimeSpan.FromSeconds(5), time, caller.Token);

        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(deadline.Token.IsCancellationRequested);

        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(deadline.Token.IsCancellationRequested);
        Assert.True(deadline.TimedOut);
        Assert.False(deadline.CallerCancelled);
    }

    [Fact]
    public void TheCallerCancelling_CancelsTheToken_AndIsNotATimeout()
    {
        var time = new FakeTimeProvider();
        using var caller = new CancellationTokenSource();
        using var deadline = new CallDeadline(TimeSpan.FromSeconds(5), time, caller.Token);

        caller.Cancel();

        Assert.True(deadline.Token.IsCancellationRequested);
        Assert.True(deadline.CallerCancelled);
        Assert.False(deadline.TimedOut);

        // The deadline passing afterwards does not turn the caller's cancel into the plugin's fault.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(deadline.TimedOut);
    }

    [Fact]
    public void ACallerAlreadyGone_EndsTheCallAtOnce()
    {
        using var deadline = new CallDeadline(TimeSpan.FromSeconds(5), new FakeTimeProvider(), new CancellationToken(canceled: true));

        Assert.True(deadline.Token.IsCancellationRequested);
        Assert.True(deadline.CallerCancelled);
        Assert.False(deadline.TimedOut);
    }

    [Fact]
    public void Extending_PushesTheDeadlineOnFromNow()
    {
        var time = new FakeTimeProvider();
        using var deadline = new CallDeadline(TimeSpan.FromSeconds(5), time, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(4));
        deadline.Extend(TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(deadline.Token.IsCancellationRequested);

        time.Advance(TimeSpan.FromSeconds(1.1));
        Assert.True(deadline.TimedOut);
    }

    [Fact]
    public void ACallerCancellingAfterTheCallEnded_DoesNotThrow()
    {
        using var caller = new CancellationTokenSource();
        var deadline = new CallDeadline(TimeSpan.FromSeconds(5), new FakeTimeProvider(), caller.Token);
        deadline.Dispose();

        caller.Cancel();

        Assert.True(caller.IsCancellationRequested);
    }
}
