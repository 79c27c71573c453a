using GrpcPlugins.Protocol;

namespace GrpcPlugins.Sdk;

/// <summary>The handshake variables the host set, read once at start.</summary>
internal sealed record WorkerEnvironment(IReadOnlyList<int> ProtocolVersions, string SocketDirectory, string HostAddress, string Token, string PluginId)
{
    /// <summary>The app protocol versions this Sdk speaks.</summary>
    public static IReadOnlyList<int> SupportedProtocolVersions { get; } = [1];

    /// <summary>Reads the environment; null with an explanation when this process was not started by a host.</summary>
    public static WorkerEnvironment? Read(Func<string, string?> get, out string? error)
    {
        if (get(HandshakeEnvironment.MagicCookieKey) != HandshakeEnvironment.MagicCookieValue)
        {
            error = "This is a plugin for a GrpcPlugins host: it does not run by itself. Put it in the host's plugins directory and start the host.";
            return null;
        }

        var missing = new[] { HandshakeEnvironment.ProtocolVersions, HandshakeEnvironment.SocketDirectory, HandshakeEnvironment.HostAddress, HandshakeEnvironment.Token, HandshakeEnvironment.PluginId }
            .Where(name => string.IsNullOrEmpty(get(name)))
            .ToList();
        if (missing.Count > 0)
        {
            error = $"The host did not set {string.Join(", ", missing)}; this host and plugin do not speak the same handshake.";
            return null;
        }

        var versions = get(HandshakeEnvironment.ProtocolVersions)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => int.TryParse(v, out var n) ? n : -1)
            .Where(v => v > 0)
            .ToList();
        error = null;
        return new WorkerEnvironment(versions, get(HandshakeEnvironment.SocketDirectory)!, get(HandshakeEnvironment.HostAddress)!, get(HandshakeEnvironment.Token)!, get(HandshakeEnvironment.PluginId)!);
    }

    /// <summary>The highest protocol version both sides speak, or null.</summary>
    public int? NegotiatedVersion => ProtocolVersions.Intersect(SupportedProtocolVersions).Select(v => (int?)v).Max();
}
