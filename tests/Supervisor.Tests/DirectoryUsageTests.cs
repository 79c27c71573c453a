using GrpcPlugins.Supervisor.Limits;

namespace GrpcPlugins.Supervisor.Tests;

/// <summary>What a data directory is counted as holding, on real files in a temp directory.</summary>
public sealed class DirectoryUsageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gpt-usage-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void EveryFileInTheTree_IsCounted_AtItsSize()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "a"), new byte[1000]);
        var nested = Directory.CreateDirectory(Path.Combine(data, "cache", "deep")).FullName;
        File.WriteAllBytes(Path.Combine(nested, "b"), new byte[2345]);
        File.WriteAllBytes(Path.Combine(data, ".hidden"), new byte[5]);

        Assert.Equal(3350, DirectoryUsage.Measure(data));
    }

    [Fact]
    public void ALinkOutOfTheDirectory_IsNotFollowed()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var elsewhere = Directory.CreateDirectory(Path.Combine(_root, "elsewhere")).FullName;
        File.WriteAllBytes(Path.Combine(elsewhere, "big"), new byte[100_000]);
        File.WriteAllBytes(Path.Combine(data, "own"), new byte[10]);
        Directory.CreateSymbolicLink(Path.Combine(data, "linked-dir"), elsewhere);
        File.CreateSymbolicLink(Path.Combine(data, "linked-file"), Path.Combine(elsewhere, "big"));

        Assert.InRange(DirectoryUsage.Measure(data), 10, 10 + 2 * 4096);
    }

    [Fact]
    public void AMissingDirectory_HoldsNothing()
    {
        Assert.Equal(0, DirectoryUsage.Measure(Path.Combine(_root, "never-made")));
    }

    [Fact]
    public void EachTopEntry_IsListedWithWhatItHolds_LargestFirst_ALinkHoldingNothing()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "small"), new byte[10]);
        Directory.CreateDirectory(Path.Combine(data, "cache", "a"));
        File.WriteAllBytes(Path.Combine(data, "cache", "a", "one"), new byte[300]);
        File.WriteAllBytes(Path.Combine(data, "cache", "two"), new byte[200]);
        File.CreateSymbolicLink(Path.Combine(data, "link"), Path.Combine(data, "cache", "two"));

        var entries = DirectoryUsage.ByEntry(data);

        Assert.Equal([("cache/", 500L), ("small", 10L), ("link", 0L)], entries);
        Assert.Empty(DirectoryUsage.ByEntry(Path.Combine(_root, "never-made")));
    }
}
