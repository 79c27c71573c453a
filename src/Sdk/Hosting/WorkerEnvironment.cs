using GrpcPlugins.Protocol;

namespace GrpcPlugins.Sdk;

/// <summary>The handshake variables the host set, read once at start.</summary>
internal sealed record WorkerEnvironment(IReadOnlyList<int> ProtocolVersions, string SocketDirectory, string HostAddress, string Token, string PluginId)
{
    /// <summary>The plugin's own writable directory; null under a host older than it.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>What the data directory may hold; null without a limit, or under a host older than it.</summary>
    public long? DataLimitBytes { get; init; }

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

        // Loops rather than LINQ: this runs first in every worker, and under the JIT each LINQ
        // instantiation over int is compiled at start.
        string[] required = [HandshakeEnvironment.ProtocolVersions, HandshakeEnvironment.SocketDirectory, HandshakeEnvironment.HostAddress, HandshakeEnvironment.Token, HandshakeEnvironment.PluginId];
        var missing = new List<string>();
        foreach (var name in required)
        {
            if (string.IsNullOrEmpty(get(name)))
            {
                missing.Add(name);
            }
        }

        if (missing.Count > 0)
        {
            error = $"The host did not set {string.Join(", ", missing)}; this host and plugin do not speak the same handshake.";
            return null;
        }

        var versions = new List<int>();
        foreach (var version in get(HandshakeEnvironment.ProtocolVersions)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(version, out var n) && n > 0)
            {
                versions.Add(n);
            }
        }

        error = null;
        return new WorkerEnvironment(versions, get(HandshakeEnvironment.SocketDirectory)!, get(HandshakeEnvironment.HostAddress)!, get(HandshakeEnvironment.Token)!, get(HandshakeEnvironment.PluginId)!)
        {
            DataDirectory = get(HandshakeEnvironment.DataDirectory) is { Length: > 0 } data ? data : null,
            DataLimitBytes = long.TryParse(get(HandshakeEnvironment.DataLimitBytes), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) && limit > 0 ? limit : null,
        };
    }

    /// <summary>The highest protocol version both sides speak, or null.</summary>
    public int? NegotiatedVersion
    {
        get
        {
            int? best = null;
            foreach (var version in ProtocolVersions)
            {
                if (SupportedProtocolVersions.Contains(version) && (best is null || version > best))
                {
                    best = version;
                }
            }

            return best;
        }
    }
}
