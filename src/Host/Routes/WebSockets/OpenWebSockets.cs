using System.Collections.Concurrent;

namespace GrpcPlugins.Host.Routes.WebSockets;

/// <summary>
/// The WebSockets open on each plugin's routes, bounded per plugin. An open socket holds
/// no call place (it may live for hours), so it is counted here instead.
/// </summary>
internal sealed class OpenWebSockets
{
    private readonly ConcurrentDictionary<string, Counter> _open = new(StringComparer.Ordinal);

    /// <summary>A place for one more socket on <paramref name="pluginId"/>, or null when it has <paramref name="max"/> open.</summary>
    public Place? TryTake(string pluginId, int max)
    {
        var counter = _open.GetOrAdd(pluginId, static _ => new Counter());
        if (Interlocked.Increment(ref counter.Value) > max)
        {
            Interlocked.Decrement(ref counter.Value);
            Interlocked.Increment(ref counter.Refused);
            return null;
        }

        Interlocked.Increment(ref counter.Opened);
        return new Place(counter);
    }

    /// <summary>What <paramref name="pluginId"/>'s sockets are now: open, opened since the host started (and of those, compressed), refused at the limit.</summary>
    public (int Open, long Opened, long Compressed, long Refused) Of(string pluginId) =>
        _open.TryGetValue(pluginId, out var counter)
            ? (Volatile.Read(ref counter.Value), Interlocked.Read(ref counter.Opened), Interlocked.Read(ref counter.Compressed), Interlocked.Read(ref counter.Refused))
            : (0, 0, 0, 0);

    /// <summary>Every plugin with a socket open now or before, for the metrics.</summary>
    public IEnumerable<KeyValuePair<string, int>> All() => _open.Select(p => new KeyValuePair<string, int>(p.Key, Volatile.Read(ref p.Value.Value)));

    internal sealed class Counter
    {
        public int Value;
        public long Opened;
        public long Compressed;
        public long Refused;
    }

    /// <summary>One socket's place, given back once.</summary>
    internal sealed class Place(Counter counter) : IDisposable
    {
        private int _given;

        /// <summary>The socket's handshake agreed to compression (permessage-deflate), which the host pays for.</summary>
        public void Compressed() => Interlocked.Increment(ref counter.Compressed);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _given, 1) == 0)
            {
                Interlocked.Decrement(ref counter.Value);
            }
        }
    }
}
