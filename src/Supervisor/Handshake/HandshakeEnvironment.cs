// Shared by the host and the Sdk (linked into both), so the two sides cannot drift.
namespace GrpcPlugins.Protocol;

/// <summary>
/// The environment variables the host sets for every worker it spawns. They
/// are the first half of the handshake; docs/protocol.md describes each.
/// </summary>
internal static class HandshakeEnvironment
{
    /// <summary>What every handshake variable's name starts with; nothing else may use it.</summary>
    public const string Prefix = "PLUGIN_";

    /// <summary>Set to <see cref="MagicCookieValue"/>; a worker without it was not started by a host.</summary>
    public const string MagicCookieKey = "PLUGIN_MAGIC_COOKIE";

    /// <summary>
    /// A fixed value, not a secret: it only tells a binary run by hand that it is
    /// a plugin and should explain itself instead of waiting for a host.
    /// </summary>
    public const string MagicCookieValue = "7f3c5e1a-grpc-plugins-v1";

    /// <summary>Comma-separated app protocol versions the host speaks, e.g. "1".</summary>
    public const string ProtocolVersions = "PLUGIN_PROTOCOL_VERSIONS";

    /// <summary>A private directory (mode 0700) in which the worker creates its socket.</summary>
    public const string SocketDirectory = "PLUGIN_SOCKET_DIR";

    /// <summary>The PluginHost service's address, e.g. "unix:///run/host/host.sock".</summary>
    public const string HostAddress = "PLUGIN_HOST_ADDRESS";

    /// <summary>A random per-spawn token, sent as <see cref="TokenMetadataKey"/> in both directions.</summary>
    public const string Token = "PLUGIN_TOKEN";

    /// <summary>The plugin id from its manifest.</summary>
    public const string PluginId = "PLUGIN_ID";

    /// <summary>
    /// The host's pid: a worker refuses connections to its socket from any other process (the
    /// kernel says who connected), so that another plugin holding its token cannot call it.
    /// Added after plugin.v1's first release: a host before it sets none, and then nothing is refused.
    /// </summary>
    public const string HostPid = "PLUGIN_HOST_PID";

    /// <summary>
    /// The plugin's own writable directory (mode 0700), kept across restarts and upgrades and
    /// removed only with its settings. Added after plugin.v1's first release: a host before it
    /// sets none.
    /// </summary>
    public const string DataDirectory = "PLUGIN_DATA_DIR";

    /// <summary>
    /// The bytes <see cref="DataDirectory"/> may hold before the host stops the plugin, in
    /// decimal; absent when there is no limit. Added after plugin.v1's first release.
    /// </summary>
    public const string DataLimitBytes = "PLUGIN_DATA_LIMIT_BYTES";

    /// <summary>
    /// The cores' worth of CPU time the worker may use ("0.5"), in invariant decimal; absent when
    /// there is no limit. Added after plugin.v1's first release.
    /// </summary>
    public const string CpuLimit = "PLUGIN_CPU_LIMIT";

    /// <summary>
    /// Set by whoever runs an attached worker (a container, a service manager), never by the
    /// host: the TCP address to serve on, such as "0.0.0.0:7001". With it, the worker serves
    /// over mutual TLS and needs none of the spawn variables above. Added after plugin.v1's
    /// first release.
    /// </summary>
    public const string AttachListen = "PLUGIN_ATTACH_LISTEN";

    /// <summary>An attached worker's own certificate (PEM), whose name the host dials.</summary>
    public const string TlsCertificate = "PLUGIN_TLS_CERT";

    /// <summary>The unencrypted PEM private key of <see cref="TlsCertificate"/>.</summary>
    public const string TlsKey = "PLUGIN_TLS_KEY";

    /// <summary>The CA (PEM) that signs the host's client certificate; every other caller is refused.</summary>
    public const string TlsClientCa = "PLUGIN_TLS_CLIENT_CA";

    /// <summary>The gRPC metadata entry that carries the token.</summary>
    public const string TokenMetadataKey = "plugin-token";
}
