using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Host.Tests;

/// <summary>The staging area's sweep, on real files: what an admin never installed does not stay.</summary>
public sealed class StagedBundlesTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("gpt-staging-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly StagedBundles _staging;

    public StagedBundlesTests() =>
        _staging = new StagedBundles(Options.Create(new PluginHostOptions { StateDirectory = _state, StagedBundleLifetime = TimeSpan.FromHours(24) }), _time, NullLogger<StagedBundles>.Instance);

    [Fact]
    public void ASweep_RemovesBundlesStagedLongerThanTheirLifetime_AndKeepsTheRest()
    {
        var fresh = Stage("sha256:" + new string('a', 64), _time.GetUtcNow().AddHours(-23));
        var old = Stage("sha256:" + new string('b', 64), _time.GetUtcNow().AddHours(-25));
        var upload = Incoming("upload", _time.GetUtcNow());

        _staging.Sweep(starting: false);

        Assert.True(File.Exists(fresh));
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(upload), "an upload still being written was swept");

        _time.Advance(TimeSpan.FromHours(2));
        _staging.Sweep(starting: false);

        Assert.False(File.Exists(fresh));
        Assert.True(File.Exists(upload), "an upload two hours in was swept before its lifetime");
    }

    [Fact]
    public void ASweepAtStart_AlsoRemovesUploadsStoreReadsAndPreviewsTheLastRunLeftUnfinished()
    {
        var staged = Stage("sha256:" + new string('c', 64), _time.GetUtcNow());
        var upload = Incoming("upload", _time.GetUtcNow());
        var fetch = Incoming("fetch", _time.GetUtcNow());
        var extraction = Directory.CreateDirectory(Path.Combine(_staging.Root, ".extracting-0123")).FullName;
        File.WriteAllText(Path.Combine(extraction, "plugin.json"), "{}");

        _staging.Sweep(starting: true);

        Assert.True(File.Exists(staged));
        Assert.False(File.Exists(upload));
        Assert.False(File.Exists(fetch));
        Assert.False(Directory.Exists(extraction), "a preview's extraction outlived the run that made it");
    }

    [Fact]
    public void AStagedBundlesExpiry_IsItsLifetimeAfterItWasStaged()
    {
        var address = "sha256:" + new string('d', 64);
        var staged = _time.GetUtcNow().AddHours(-3);
        Stage(address, staged);

        Assert.Equal(staged.AddHours(24).ToUnixTimeSeconds(), _staging.ExpiryOf(address).ToUnixTimeSeconds());
    }

    private string Stage(string address, DateTimeOffset when)
    {
        Directory.CreateDirectory(_staging.Root);
        var path = _staging.PathOf(address);
        File.WriteAllText(path, address);
        File.SetLastWriteTimeUtc(path, when.UtcDateTime);
        return path;
    }

    private string Incoming(string purpose, DateTimeOffset when)
    {
        var path = _staging.IncomingPath(purpose);
        File.WriteAllText(path, purpose);
        File.SetLastWriteTimeUtc(path, when.UtcDateTime);
        return path;
    }

    public void Dispose() => Directory.Delete(_state, recursive: true);
}
