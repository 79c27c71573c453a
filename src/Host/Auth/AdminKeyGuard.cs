using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Auth;

/// <summary>
/// Locks out an address that keeps presenting wrong admin keys: after
/// <see cref="PluginHostOptions.AdminKeyFailuresAllowed"/> wrong keys within
/// <see cref="PluginHostOptions.AdminKeyLockout"/>, every key from it, right or wrong, is refused
/// for that long. An IPv6 caller is counted by its /64, which one subscriber usually holds whole.
/// Its times are the monotonic clock's, from the guard's making: on the wall clock, an NTP
/// step back of an hour locked an address out for an hour more.
/// </summary>
internal sealed class AdminKeyGuard(IOptions<PluginHostOptions> options, TimeProvider time)
{
    private readonly long _origin = time.GetTimestamp();

    /// <summary>The most addresses counted at once; beyond it, the least suspicious are forgotten first.</summary>
    internal const int MaxTracked = 10_000;

    private readonly ConcurrentDictionary<string, Attempts> _attempts = new(StringComparer.Ordinal);

    /// <summary>How long <paramref name="remote"/> is still locked out; zero when it is not.</summary>
    public TimeSpan LockedOutFor(IPAddress? remote) =>
        // Asked on every request with a key (plugin routes too): nobody counted is the common case, and costs no key.
        !_attempts.IsEmpty && _attempts.TryGetValue(Key(remote), out var attempts) ? attempts.LockedOutFor(Now()) : TimeSpan.Zero;

    /// <summary>Counts a wrong key from <paramref name="remote"/>; true when this one locked it out.</summary>
    public bool Failed(IPAddress? remote)
    {
        var now = Now();
        if (_attempts.Count >= MaxTracked)
        {
            Forget(now);
        }

        var attempts = _attempts.GetOrAdd(Key(remote), static _ => new Attempts());
        return attempts.Fail(now, options.Value.AdminKeyFailuresAllowed, options.Value.AdminKeyLockout);
    }

    /// <summary>A right key from <paramref name="remote"/>: its count starts again.</summary>
    public void Succeeded(IPAddress? remote) => _attempts.TryRemove(Key(remote), out _);

    /// <summary>The counting key: the address, an IPv6 one's /64, or "local" for a Unix socket.</summary>
    internal static string Key(IPAddress? remote)
    {
        if (remote is null)
        {
            return "local";
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        if (remote.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return remote.ToString();
        }

        var bytes = remote.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private TimeSpan Now() => time.GetElapsedTime(_origin);

    private void Forget(TimeSpan now)
    {
        var window = options.Value.AdminKeyLockout;
        foreach (var (key, attempts) in _attempts)
        {
            if (attempts.Expired(now, window))
            {
                _attempts.TryRemove(key, out _);
            }
        }

        // Still full of live counts: forget those with the fewest wrong keys, never one locked out.
        var excess = _attempts.Count - (MaxTracked * 9 / 10);
        foreach (var (key, _) in _attempts.Where(a => a.Value.LockedOutFor(now) == TimeSpan.Zero).OrderBy(a => a.Value.Count).Take(Math.Max(0, excess)).ToList())
        {
            _attempts.TryRemove(key, out _);
        }
    }

    /// <summary>One address's wrong keys in its current window, and its lockout.</summary>
    private sealed class Attempts
    {
        private readonly Lock _lock = new();
        // Since the guard's origin (monotonic); zero is "never".
        private TimeSpan _windowStart;
        private TimeSpan _lockedUntil;

        public int Count { get; private set; }

        public bool Fail(TimeSpan now, int allowed, TimeSpan window)
        {
            lock (_lock)
            {
                // The first wrong key, a lockout served, or a window gone by starts the count again.
                if (Count == 0 || now - _windowStart > window || (_lockedUntil != default && now >= _lockedUntil))
                {
                    _windowStart = now;
                    _lockedUntil = default;
                    Count = 0;
                }

                Count++;
                if (Count >= allowed && now >= _lockedUntil)
                {
                    _lockedUntil = now + window;
                    return true;
                }

                return false;
            }
        }

        public TimeSpan LockedOutFor(TimeSpan now)
        {
            lock (_lock)
            {
                return _lockedUntil > now ? _lockedUntil - now : TimeSpan.Zero;
            }
        }

        public bool Expired(TimeSpan now, TimeSpan window)
        {
            lock (_lock)
            {
                return now - _windowStart > window && _lockedUntil <= now;
            }
        }
    }
}
