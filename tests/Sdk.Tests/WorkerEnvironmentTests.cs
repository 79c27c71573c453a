using GrpcPlugins.Protocol;

namespace GrpcPlugins.Sdk.Tests;

public sealed class WorkerEnvironmentTests
{
    private static readonly Dictionary<string, string> s_host = new()
    {
        [HandshakeEnvironment.MagicCookieKey] = HandshakeEnvironment.MagicCookieValue,
        [HandshakeEnvironment.ProtocolVersions] = " 3, x, 1 ,-2,",
        [HandshakeEnvironment.SocketDirectory] = "/run/p",
        [HandshakeEnvironment.HostAddress] = "unix:///run/host.sock",
        [HandshakeEnvironment.Token] = "t",
        [HandshakeEnvironment.PluginId] = "p",
    };

    [Fact]
    public void WithoutTheMagicCookie_ItExplainsThatAPluginDoesNotRunByItself()
    {
        var environment = WorkerEnvironment.Read(_ => null, out var error);

        Assert.Null(environment);
        Assert.StartsWith("This is a plugin for a GrpcPlugins host: it does not run by itself.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingVariable_IsNamed()
    {
        var environment = WorkerEnvironment.Read(name => name is HandshakeEnvironment.Token or HandshakeEnvironment.PluginId ? "" : s_host.GetValueOrDefault(name), out var error);

        Assert.Null(environment);
        Assert.Equal($"The host did not set {HandshakeEnvironment.Token}, {HandshakeEnvironment.PluginId}; this host and plugin do not speak the same handshake.", error);
    }

    private static readonly Dictionary<string, string> s_attached = new()
    {
        [HandshakeEnvironment.AttachListen] = "0.0.0.0:7001",
        [HandshakeEnvironment.TlsCertificate] = "/tls/plugin.pem",
        [HandshakeEnvironment.TlsKey] = "/tls/plugin.key",
        [HandshakeEnvironment.TlsClientCa] = "/tls/hosts-ca.pem",
    };

    [Fact]
    public void AnAttachedWorker_NeedsNoSpawnVariables_AndServesOnItsAddress()
    {
        var environment = WorkerEnvironment.Read(s_attached.GetValueOrDefault, out var error);

        Assert.Null(error);
        Assert.Equal(new AttachedListener(System.Net.IPEndPoint.Parse("0.0.0.0:7001"), "/tls/plugin.pem", "/tls/plugin.key", "/tls/hosts-ca.pem"), environment!.Attached);
        Assert.Equal(1, environment.NegotiatedVersion);
        Assert.Empty(environment.Token);
    }

    [Theory]
    [InlineData(HandshakeEnvironment.TlsClientCa, "x", "PLUGIN_TLS_CLIENT_CA is not set.")]
    [InlineData(HandshakeEnvironment.AttachListen, "orders.internal:7001", "PLUGIN_ATTACH_LISTEN 'orders.internal:7001' is not an address with a port. Give one such as 0.0.0.0:7001")]
    [InlineData(HandshakeEnvironment.AttachListen, "0.0.0.0", "PLUGIN_ATTACH_LISTEN '0.0.0.0' is not an address with a port.")]
    public void AnAttachedWorkersMistake_IsNamedWithItsFix(string name, string value, string error)
    {
        var environment = WorkerEnvironment.Read(n => n == name ? (name == HandshakeEnvironment.TlsClientCa ? null : value) : s_attached.GetValueOrDefault(n), out var said);

        Assert.Null(environment);
        Assert.Contains(error, said, StringComparison.Ordinal);
    }

    [Fact]
    public void TheHostsVersions_KeepOnlyPositiveNumbers_AndTheHighestCommonOneIsNegotiated()
    {
        var environment = WorkerEnvironment.Read(s_host.GetValueOrDefault, out var error);

        Assert.Null(error);
        Assert.Equal([3, 1], environment!.ProtocolVersions);
        Assert.Equal(1, environment.NegotiatedVersion);
        Assert.Null((environment with { ProtocolVersions = [2, 3] }).NegotiatedVersion);
    }

    [Fact]
    public void TheDataDirectory_IsReadWhenTheHostSetsIt_AndNullUnderAnOlderHost()
    {
        var withData = WorkerEnvironment.Read(name => name == HandshakeEnvironment.DataDirectory ? "/state/data/p" : s_host.GetValueOrDefault(name), out _);
        var older = WorkerEnvironment.Read(s_host.GetValueOrDefault, out _);

        Assert.Equal("/state/data/p", withData!.DataDirectory);
        Assert.Null(older!.DataDirectory);
    }

    [Theory]
    [InlineData("1048576", 1048576L)]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("lots", null)]
    [InlineData("-5", null)]
    [InlineData("0", null)]
    public void TheDataLimit_IsReadWhenTheHostSetsOne_AndNullOtherwise(string? set, long? read)
    {
        var environment = WorkerEnvironment.Read(name => name == HandshakeEnvironment.DataLimitBytes ? set : s_host.GetValueOrDefault(name), out _);

        Assert.Equal(read, environment!.DataLimitBytes);
    }

    [Theory]
    [InlineData("0.5", 0.5)]
    [InlineData("2", 2.0)]
    [InlineData(null, null)]
    [InlineData("half", null)]
    [InlineData("-1", null)]
    [InlineData("0", null)]
    [InlineData("1e3", null)]
    public void TheCpuLimit_IsReadWhenTheHostSetsOne_AndNullOtherwise(string? set, double? read)
    {
        var environment = WorkerEnvironment.Read(name => name == HandshakeEnvironment.CpuLimit ? set : s_host.GetValueOrDefault(name), out _);

        Assert.Equal(read, environment!.CpuLimit);
    }
}
