using System.Collections.Concurrent;

namespace GrpcPlugins.Supervisor.Workers;

/// <summary>
/// Which plugin holds which per-spawn token right now. The host's PluginHost
/// service identifies its caller by token alone, so a plugin can never act as another.
/// </summary>
internal sealed class TokenRegistry
{
    private readonly ConcurrentDictionary<string, TokenHolder> _holders = new(StringComparer.Ordinal);

    public void Add(string token, string pluginId) => _holders[token] = new TokenHolder(pluginId, 0);

    /// <summary>
    /// Binds the token to the process group of the worker it was given to: every process of a
    /// plugin runs as the same user, so another plugin can read a worker's environment, token
    /// included; from outside that group the token is refused.
    /// </summary>
    public void BindProcessGroup(string token, int processGroup) =>
        _holders.AddOrUpdate(token, static (_, _) => throw new InvalidOperationException("bound before it was added"), static (_, holder, group) => holder with { ProcessGroup = group }, processGroup);

    public void Remove(string token) => _holders.TryRemove(token, out _);

    /// <summary>The plugin that holds <paramref name="token"/>, or null.</summary>
    public string? FindPlugin(string? token) => Find(token)?.PluginId;

    /// <summary>Who holds <paramref name="token"/>, or null.</summary>
    public TokenHolder? Find(string? token) => token is not null && _holders.TryGetValue(token, out var holder) ? holder : null;
}

/// <summary>The plugin a token was given to, and its worker's process group (0 when the token is not bound to one: an attached worker's, or a spawn without its own group).</summary>
internal sealed record TokenHolder(string PluginId, int ProcessGroup);
