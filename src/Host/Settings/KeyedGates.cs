using System.Collections.Concurrent;

namespace GrpcPlugins.Host.Settings;

/// <summary>One <see cref="SemaphoreSlim"/> per key (a plugin id), made on first use, each letting <c>count</c> callers in at once.</summary>
internal sealed class KeyedGates(int count) : IDisposable
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _byKey = new(StringComparer.Ordinal);

    public Task<GateTurn> EnterAsync(string key, CancellationToken cancellationToken) =>
        GateTurn.EnterAsync(_byKey.GetOrAdd(key, static (_, n) => new SemaphoreSlim(n, n), count), cancellationToken);

    public void Dispose()
    {
        foreach (var gate in _byKey.Values)
        {
            gate.Dispose();
        }
    }
}
