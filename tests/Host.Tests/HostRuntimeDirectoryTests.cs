using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Host.Tests;

/// <summary>Which runtime directories a starting host removes as a killed host's, on real directories and locks.</summary>
public sealed class HostRuntimeDirectoryTests : IDisposable
{
    // Pids no process has here, as a host in another pid namespace (another container sharing /tmp) names its directory.
    private const int ElsewhereOrGone = 999_999_999;

    private readonly string _parent = Directory.CreateTempSubdirectory("gpt-rt-").FullName;

    [Fact]
    public void AHostsDirectory_StaysWhileItsLockIsHeld_WhateverPidItsNameCarries_AndGoesOnceItIsNot()
    {
        var live = Make($"gph-{ElsewhereOrGone}-aaaaaa");
        var killed = Make($"gph-{ElsewhereOrGone - 1}-bbbbbb");
        File.Create(Path.Combine(killed, "host.lock")).Dispose();
        var held = HeldFileLock.TryTake(Path.Combine(live, "host.lock"));
        Assert.NotNull(held);

        using (Start(TimeProvider.System))
        {
            Assert.True(Directory.Exists(live), "a live host's runtime directory was removed");
            Assert.False(Directory.Exists(killed));
        }

        held.Dispose();
        using (Start(TimeProvider.System))
        {
            Assert.False(Directory.Exists(live));
        }
    }

    [Fact]
    public void ADirectoryWithoutALock_GoesOnlyOnceItsPidIsGone_AndItIsOlderThanAHostsFirstInstant()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var unlocked = Make($"gph-{ElsewhereOrGone}-cccccc");
        var running = Make("gph-1-dddddd");

        using (Start(time))
        {
            Assert.True(Directory.Exists(unlocked), "a directory created an instant ago, its lock still to come, was removed");
        }

        time.Advance(TimeSpan.FromMinutes(1));
        using (Start(time))
        {
            Assert.False(Directory.Exists(unlocked));
            Assert.True(Directory.Exists(running), "the directory of a pid that runs was removed");
        }
    }

    [Fact]
    public void AHostsOwnDirectory_IsLockedWhileItRuns_AndGoneWithItsLockOnceDisposed()
    {
        var runtime = Start(TimeProvider.System);
        var lockFile = Path.Combine(runtime.Path, "host.lock");

        Assert.True(HeldFileLock.IsHeld(lockFile));
        runtime.Dispose();
        Assert.False(Directory.Exists(runtime.Path));
        Assert.False(HeldFileLock.IsHeld(lockFile));
    }

    [Fact]
    public void ARuntimeDirectoryThatIsNotThereYet_IsMade_ItsOwnersAlone()
    {
        var configured = Path.Combine(_parent, "run");

        using var runtime = new HostRuntimeDirectory(Options.Create(new PluginHostOptions { RuntimeDirectory = configured }), TimeProvider.System);

        Assert.Equal(configured, Path.GetDirectoryName(runtime.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(configured));
    }

    public void Dispose() => Directory.Delete(_parent, recursive: true);

    private HostRuntimeDirectory Start(TimeProvider time) =>
        new(Options.Create(new PluginHostOptions { RuntimeDirectory = _parent }), time);

    private string Make(string name) => Directory.CreateDirectory(Path.Combine(_parent, name)).FullName;
}
