using System.Collections.Concurrent;

namespace GrpcPlugins.Host.Routes;

/// <summary>
/// Route request bodies waiting for their plugin to read them through
/// PluginHost.ReadHttpBody, by the id sent in the request's head.
/// </summary>
internal sealed class PulledBodies
{
    private readonly ConcurrentDictionary<string, PulledBody> _waiting = new(StringComparer.Ordinal);

    /// <summary>Offers <paramref name="body"/> to plugin <paramref name="pluginId"/> until the returned offer is disposed.</summary>
    public PulledBody Offer(string pluginId, Stream body, long maxBody, CancellationTokenSource call, Action onTooLarge)
    {
        // A random id (a v4 Guid comes from the system's cryptographic generator): one plugin
        // cannot guess another's, and the plugin's id is checked besides.
        var id = Guid.NewGuid().ToString("N");
        var offered = new PulledBody(id, pluginId, body, maxBody, call, onTooLarge, () => _waiting.TryRemove(id, out _));
        _waiting[id] = offered;
        return offered;
    }

    /// <summary>The body offered under <paramref name="id"/> to <paramref name="pluginId"/>, or null.</summary>
    public PulledBody? Find(string id, string pluginId) =>
        _waiting.TryGetValue(id, out var body) && string.Equals(body.PluginId, pluginId, StringComparison.Ordinal) ? body : null;

    /// <summary>How many bodies are offered now (for tests: none may outlive its route call).</summary>
    public int Count => _waiting.Count;
}
