using GrpcPlugins.Protocol;

namespace GrpcPlugins.Sdk;

/// <summary>The handshake variables the host set, read once at start.</summary>
internal sealed record WorkerEnvironment(IReadOnlyList<int> ProtocolVersions, string SocketDirectory, string HostAddress, string Token, string PluginId)
{
    /// <summary>The plugin's own writable directory; null under a host older than it.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The host's pid (PLUGIN_HOST_PID): the only process whose connections the worker's socket takes; null from a host that sets none.</summary>
    public int? HostPid { get; init; }

    /// <summary>What the data directory may hold; null without a limit, or under a host older than it.</summary>
    public long? DataLimitBytes { get; init; }

    /// <summary>The cores' worth of CPU time the worker may use; null without a limit, or under a host older than it.</summary>
    public double? CpuLimit { get; init; }

    /// <summary>How an attached worker serves; null for a worker the host spawned.</summary>
    public AttachedListener? Attached { get; init; }

    /// <summary>The app protocol versions this Sdk speaks.</summary>
    public static IReadOnlyList<int> SupportedProtocolVersions { get; } = [1];

    /// <summary>Reads the environment; null with an explanation when this process was not started by a host.</summary>
    public static WorkerEnvironment? Read(Func<string, string?> get, out string? error)
    {
        if (!string.IsNullOrEmpty(get(HandshakeEnvironment.AttachListen)))
        {
            return ReadAttached(get, out error);
        }

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
            HostPid = int.TryParse(get(HandshakeEnvironment.HostPid), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var hostPid) && hostPid > 0 ? hostPid : null,
            DataLimitBytes = long.TryParse(get(HandshakeEnvironment.DataLimitBytes), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) && limit > 0 ? limit : null,
            CpuLimit = double.TryParse(get(HandshakeEnvironment.CpuLimit), System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var cpus) && cpus > 0 ? cpus : null,
        };
    }

    /// <summary>
    /// An attached worker's environment: whoever runs it sets the listen address and the TLS
    /// files; the host dials it and negotiates the protocol version in Describe. There is no
    /// socket directory, no token (the host's client certificate is the credential) and no
    /// callback address.
    /// </summary>
    private static WorkerEnvironment? ReadAttached(Func<string, string?> get, out string? error)
    {
        string[] required = [HandshakeEnvironment.TlsCertificate, HandshakeEnvironment.TlsKey, HandshakeEnvironment.TlsClientCa];
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
            error = $"{HandshakeEnvironment.AttachListen} is set, so this plugin serves over mutual TLS, but {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} not set. Set {HandshakeEnvironment.TlsCertificate} and {HandshakeEnvironment.TlsKey} to this plugin's certificate and key, and {HandshakeEnvironment.TlsClientCa} to the CA of the host's client certificate (docs/protocol.md, \"Attached workers\").";
            return null;
        }

        var listen = get(HandshakeEnvironment.AttachListen)!;
        if (!System.Net.IPEndPoint.TryParse(listen, out var endpoint) || endpoint.Port == 0)
        {
            error = $"{HandshakeEnvironment.AttachListen} '{listen}' is not an address with a port. Give one such as 0.0.0.0:7001 or [::]:7001.";
            return null;
        }

        error = null;
        return new WorkerEnvironment(SupportedProtocolVersions, string.Empty, string.Empty, string.Empty, get(HandshakeEnvironment.PluginId) ?? string.Empty)
        {
            DataDirectory = get(HandshakeEnvironment.DataDirectory) is { Length: > 0 } data ? data : null,
            Attached = new AttachedListener(endpoint, get(HandshakeEnvironment.TlsCertificate)!, get(HandshakeEnvironment.TlsKey)!, get(HandshakeEnvironment.TlsClientCa)!),
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

/// <summary>Where an attached worker serves, and the TLS files it serves with.</summary>
internal sealed record AttachedListener(System.Net.IPEndPoint Endpoint, string CertificatePath, string KeyPath, string ClientCaPath);
