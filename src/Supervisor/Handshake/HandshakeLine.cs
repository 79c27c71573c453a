namespace GrpcPlugins.Supervisor.Handshake;

/// <summary>
/// The one line a worker prints on stdout once it serves the contract, in
/// go-plugin's format: <c>CORE_VERSION|APP_PROTOCOL_VERSION|NETWORK|ADDRESS|PROTOCOL</c>,
/// for example <c>1|1|unix|/run/plugins/hello/plugin.sock|grpc</c>.
/// </summary>
internal sealed record HandshakeLine(int CoreVersion, int AppProtocolVersion, string Network, string Address, string Protocol)
{
    /// <summary>The only core version this host speaks.</summary>
    public const int SupportedCoreVersion = 1;

    /// <summary>
    /// Parses a handshake line. Returns null and a message that quotes the line
    /// and says how to fix it when the line is not a valid handshake.
    /// </summary>
    public static HandshakeLine? TryParse(string line, IReadOnlyCollection<int> hostProtocolVersions, out string? error)
    {
        var quoted = Quote(line);
        var parts = line.Trim().Split('|');
        if (parts.Length != 5)
        {
            error = $"invalid handshake line {quoted}: expected 5 fields 'CORE|APP|unix|/path/to/socket|grpc', got {parts.Length}. Print nothing on stdout before the handshake line; log to stderr.";
            return null;
        }

        if (!int.TryParse(parts[0], out var core) || core != SupportedCoreVersion)
        {
            error = $"invalid handshake line {quoted}: core version '{parts[0]}' is not supported; this host speaks core version {SupportedCoreVersion}.";
            return null;
        }

        if (!int.TryParse(parts[1], out var app) || !hostProtocolVersions.Contains(app))
        {
            error = $"invalid handshake line {quoted}: app protocol version '{parts[1]}' is not one the host speaks ({string.Join(", ", hostProtocolVersions)}). Pick one from PLUGIN_PROTOCOL_VERSIONS.";
            return null;
        }

        if (parts[2] != "unix")
        {
            error = $"invalid handshake line {quoted}: network '{parts[2]}' is not supported; serve on a Unix socket inside PLUGIN_SOCKET_DIR and print 'unix'.";
            return null;
        }

        if (parts[3].Length == 0 || !Path.IsPathFullyQualified(parts[3]))
        {
            error = $"invalid handshake line {quoted}: address '{parts[3]}' must be an absolute socket path inside PLUGIN_SOCKET_DIR.";
            return null;
        }

        if (parts[4] != "grpc")
        {
            error = $"invalid handshake line {quoted}: protocol '{parts[4]}' is not supported; print 'grpc'.";
            return null;
        }

        error = null;
        return new HandshakeLine(core, app, parts[2], parts[3], parts[4]);
    }

    /// <summary>Formats the line as a worker prints it.</summary>
    public override string ToString() => $"{CoreVersion}|{AppProtocolVersion}|{Network}|{Address}|{Protocol}";

    private static string Quote(string line)
    {
        const int max = 200;
        var shown = line.Length > max ? line[..max] + "…" : line;
        return "\"" + shown.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }
}
