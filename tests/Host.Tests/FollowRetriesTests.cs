using GrpcPlugins.Host.Replicas;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Host.Tests;

/// <summary>The pacing of a refused follow's tries (pure logic; ReplicaTests follows a real one).</summary>
public sealed class FollowRetriesTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<string> _tries = [];
    private readonly UnfollowedInstalls _standing = new();
    private readonly FollowRetries _retries;

    public FollowRetriesTests() =>
        _retries = new FollowRetries(TimeSpan.FromSeconds(15), _time, _standing, id => { lock (_tries) { _tries.Add(id); } });

    [Fact]
    public void TheWait_DoublesFromTheFirst_UpToFiveMinutes()
    {
        Assert.Equal(
            [15, 30, 60, 120, 240, 300, 300],
            Enumerable.Range(1, 7).Select(n => (int)_retries.Wait(n).TotalSeconds));
        Assert.Equal(TimeSpan.FromMinutes(5), _retries.Wait(int.MaxValue));
    }

    [Fact]
    public void ARefusal_IsReportedOnce_TriedAgainAfterTheWait_AndADifferentOneIsReportedAgain()
    {
        Assert.True(_retries.Refused("p", "unknown signer"));
        _time.Advance(TimeSpan.FromSeconds(14));
        Assert.Empty(Tries());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["p"], Tries());

        Assert.False(_retries.Refused("p", "unknown signer"));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Single(Tries());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["p", "p"], Tries());

        Assert.True(_retries.Refused("p", "missing dependency"));
        // What the admin API shows: the refusal standing now, since its first try, and how many met it.
        var shown = Assert.Single(_standing.Current);
        Assert.Equal(("p", "missing dependency", 1), (shown.PluginId, shown.Problem, shown.Tries));
    }

    [Fact]
    public void AFollowedPlugin_IsNotTriedAgain_AndTwoRefusalsBeforeATry_MakeOneTry()
    {
        _retries.Refused("p", "unknown signer");
        _retries.Refused("p", "unknown signer");
        _retries.Refused("q", "unknown signer");
        _retries.Followed("q");
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(["p"], Tries());
        Assert.Equal(("p", 2), (Assert.Single(_standing.Current).PluginId, _standing.Current[0].Tries));
    }

    [Fact]
    public void TryingAllNow_TriesEachRefusedFollowOnce_WithoutWaiting()
    {
        _retries.Refused("p", "missing dependency");
        _retries.Refused("q", "unknown signer");

        _retries.TryAllNow();
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(["p", "q"], Tries().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void NoTryComes_OnceStopped()
    {
        _retries.Refused("p", "unknown signer");
        _retries.Dispose();
        _retries.Refused("q", "unknown signer");
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Empty(Tries());
    }

    private List<string> Tries()
    {
        lock (_tries)
        {
            return [.. _tries];
        }
    }

    public void Dispose() => _retries.Dispose();
}
