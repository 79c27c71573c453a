using System.Net;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Host.Tests;

/// <summary>An address presenting wrong admin keys is locked out, on a fake clock (the functional tests lock one out for real).</summary>
public sealed class AdminKeyGuardTests
{
    private static readonly IPAddress s_attacker = IPAddress.Parse("203.0.113.7");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 23, 0, 0, TimeSpan.Zero));

    private AdminKeyGuard Guard(int allowed = 3) =>
        new(Microsoft.Extensions.Options.Options.Create(new PluginHostOptions { AdminKeyFailuresAllowed = allowed, AdminKeyLockout = TimeSpan.FromMinutes(1) }), _time);

    [Fact]
    public void TheAllowedNumberOfWrongKeys_LocksTheAddressOutOnce_ForTheLockout_AndOthersNot()
    {
        var guard = Guard();

        var locks = Enumerable.Range(0, 3).Select(_ => guard.Failed(s_attacker)).ToList();
        var lockedFor = guard.LockedOutFor(s_attacker);
        _time.Advance(TimeSpan.FromSeconds(59));
        var stillLocked = guard.LockedOutFor(s_attacker);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([false, false, true], locks);
        Assert.Equal(TimeSpan.FromMinutes(1), lockedFor);
        Assert.Equal(TimeSpan.FromSeconds(1), stillLocked);
        Assert.Equal(TimeSpan.Zero, guard.LockedOutFor(s_attacker));
        Assert.Equal(TimeSpan.Zero, guard.LockedOutFor(IPAddress.Parse("203.0.113.8")));
        // After the lockout the count starts again.
        Assert.False(guard.Failed(s_attacker));
        Assert.False(guard.Failed(s_attacker));
        Assert.True(guard.Failed(s_attacker));
    }

    [Fact]
    public void AWallClockSteppedBack_DoesNotLengthenALockout()
    {
        var clock = new GrpcPlugins.Tests.SteppingClock();
        var guard = new AdminKeyGuard(Microsoft.Extensions.Options.Options.Create(new PluginHostOptions { AdminKeyFailuresAllowed = 1, AdminKeyLockout = TimeSpan.FromMinutes(1) }), clock);
        Assert.True(guard.Failed(s_attacker));

        // NTP steps the clock back an hour during the lockout.
        clock.StepWallClock(TimeSpan.FromHours(-1));
        clock.Advance(TimeSpan.FromSeconds(30));
        var during = guard.LockedOutFor(s_attacker);
        clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(TimeSpan.FromSeconds(30), during);
        Assert.Equal(TimeSpan.Zero, guard.LockedOutFor(s_attacker));
    }

    [Fact]
    public void TheCountingWindow_StartsAtTheFirstWrongKey_NotAtTheGuardsMaking()
    {
        var guard = Guard(allowed: 2);
        _time.Advance(TimeSpan.FromSeconds(50));

        guard.Failed(s_attacker);
        _time.Advance(TimeSpan.FromSeconds(20));

        Assert.True(guard.Failed(s_attacker));
    }

    [Fact]
    public void WrongKeysSpreadOverMoreThanTheWindow_OrARightKeyBetween_DoNotLockOut()
    {
        var guard = Guard();

        guard.Failed(s_attacker);
        guard.Failed(s_attacker);
        _time.Advance(TimeSpan.FromSeconds(61));
        var afterWindow = guard.Failed(s_attacker);
        guard.Failed(s_attacker);
        guard.Succeeded(s_attacker);
        var afterRightKey = guard.Failed(s_attacker);

        Assert.False(afterWindow);
        Assert.False(afterRightKey);
        Assert.Equal(TimeSpan.Zero, guard.LockedOutFor(s_attacker));
    }

    [Theory]
    [InlineData("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData(null, "local")]
    public void AnAddress_IsCountedByItsIPv4Address_ItsIPv6Slash64_OrAsLocal(string? address, string key) =>
        Assert.Equal(key, AdminKeyGuard.Key(address is null ? null : IPAddress.Parse(address)));

    [Fact]
    public void WhenTooManyAddressesAreCounted_TheLeastSuspiciousAreForgotten_NeverOneLockedOut()
    {
        var guard = Guard();
        guard.Failed(s_attacker);
        guard.Failed(s_attacker);
        guard.Failed(s_attacker);

        for (var n = 0; n < AdminKeyGuard.MaxTracked + 10; n++)
        {
            guard.Failed(new IPAddress([10, (byte)(n >> 16), (byte)(n >> 8), (byte)n]));
        }

        Assert.Equal(TimeSpan.FromMinutes(1), guard.LockedOutFor(s_attacker));
    }
}
