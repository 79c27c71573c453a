using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class CallLimitTests
{
    [Fact]
    public void CallsUpToTheLimit_AreTaken_AndTheNextIsRefused_WithoutHoldingAPlace()
    {
        var limit = new CallLimit(2);

        Assert.True(limit.TryEnter(out _));
        Assert.True(limit.TryEnter(out _));
        Assert.False(limit.TryEnter(out var began));

        Assert.True(began);
        Assert.Equal(2, limit.InFlight);
        Assert.Equal(1, limit.Refused);
        Assert.True(limit.Saturated);
    }

    [Fact]
    public void AnEpisodeOfRefusals_BeginsOnce_AndEndsOnlyOnceAQuarterOfThePlacesAreFree_CountingWhatItRefused()
    {
        var limit = new CallLimit(8);
        for (var i = 0; i < 8; i++)
        {
            Assert.True(limit.TryEnter(out _));
        }

        Assert.False(limit.TryEnter(out var first));
        Assert.False(limit.TryEnter(out var second));
        Assert.False(limit.Exit(out _)); // 7 in flight: one place free is not yet a quarter
        Assert.True(limit.TryEnter(out _)); // taken again, still in the episode
        Assert.False(limit.Exit(out _));
        var ended = limit.Exit(out var refused); // 6 in flight: two of eight places free

        Assert.True(first);
        Assert.False(second);
        Assert.True(ended);
        Assert.Equal(2, refused);
        Assert.False(limit.Saturated);
    }

    [Fact]
    public void ALimitOfOne_EndsItsEpisode_WhenItsCallEnds()
    {
        var limit = new CallLimit(1);
        Assert.True(limit.TryEnter(out _));
        Assert.False(limit.TryEnter(out _));

        Assert.True(limit.Exit(out var refused));
        Assert.Equal(1, refused);
        Assert.True(limit.TryEnter(out var began));
        Assert.False(began);
    }

    [Fact]
    public void ASecondEpisode_CountsOnlyItsOwnRefusals()
    {
        var limit = new CallLimit(1);
        Assert.True(limit.TryEnter(out _));
        Assert.False(limit.TryEnter(out _));
        Assert.False(limit.TryEnter(out _));
        limit.Exit(out _);
        Assert.True(limit.TryEnter(out _));
        Assert.False(limit.TryEnter(out var began));

        Assert.True(began);
        Assert.True(limit.Exit(out var refused));
        Assert.Equal(1, refused);
        Assert.Equal(3, limit.Refused);
    }

    [Fact]
    public async Task UnderConcurrentCallers_InFlightNeverPassesTheLimit_AndEveryAttemptIsTakenOrRefused()
    {
        var limit = new CallLimit(4);
        var peak = 0;
        var admitted = 0;
        var taken = 0L;
        var attempts = 0L;
        var episodes = 0;
        var ended = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(caller => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                Interlocked.Increment(ref attempts);
                if (!limit.TryEnter(out var began))
                {
                    if (began)
                    {
                        Interlocked.Increment(ref episodes);
                    }

                    continue;
                }

                Interlocked.Increment(ref taken);
                // Counted by the test itself: the limit's own count passes the limit for a moment
                // while a refused caller gives its place back, but no call is let in then.
                var now = Interlocked.Increment(ref admitted);
                int seen;
                while (now > (seen = Volatile.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                {
                }

                Interlocked.Decrement(ref admitted);
                if (limit.Exit(out _))
                {
                    Interlocked.Increment(ref ended);
                }
            }
        })));

        Assert.InRange(peak, 1, 4);
        Assert.Equal(0, limit.InFlight);
        Assert.Equal(attempts, taken + limit.Refused);
        // Every episode that began ended, but for at most one still open when the callers stopped.
        Assert.InRange(episodes - ended, 0, 1);
    }
}
