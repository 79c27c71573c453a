using System.Collections.Concurrent;

namespace GrpcPlugins.Supervisor.Workers;

/// <summary>
/// Which plugin holds which per-spawn token right now. The host's PluginHost
/// service identifies its caller by token alone, so a plugin can never act as another.
/// </summary>
internal sealed class TokenRegistry
{
    private readonly ConcurrentDictionary<string, string> _pluginByToken = new(StringComparer.Ordinal);

    public void Add(string token, string pluginId) => _pluginByToken[token] = pluginId;

    public void Remove(string token) => _pluginByToken.TryRemove(token, out _);

    /// <summary>The plugin that holds <paramref name="token"/>, or null.</summary>
    public string? FindPlugin(string? token) => token is not null && _pluginByToken.TryGetValue(token, out var id) ? id : null;
}
