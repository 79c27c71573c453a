using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Sdk.HostApi;

/// <summary>Calls the host's PluginHost service over its Unix socket (attached: over mutual TLS, where the host's Describe said), with this worker's token.</summary>
internal sealed class PluginHostClient : IPluginHost, IDisposable
{
    // A settings write the host paces is refused with gRPC's pushback (how long until it takes one
    // again): gRPC's own retry waits that long and writes again, so a plugin that writes in a burst
    // is slowed to the host's pace rather than failed. Only pushback-carrying refusals are worth a
    // retry; the host marks its other RESOURCE_EXHAUSTED answers (too large) "do not retry".
    // Built with the channel, on the first call back, not at start: a worker's start path loads no
    // type it does not need.
    private static ServiceConfig RetryPacedWrites() => new()
    {
        MethodConfigs =
        {
            new MethodConfig
            {
                Names = { new MethodName { Service = "plugin.v1.PluginHost", Method = "PutSettings" } },
                RetryPolicy = new RetryPolicy
                {
                    MaxAttempts = 5,
                    InitialBackoff = TimeSpan.FromMilliseconds(100),
                    MaxBackoff = TimeSpan.FromSeconds(2),
                    BackoffMultiplier = 2,
                    RetryableStatusCodes = { StatusCode.ResourceExhausted },
                },
            },
        },
    };

    // Host replicas may each attach this worker, each offering its own way back over its own
    // connection; a body one host kept back can only be read from that host, so a call made for
    // a request uses the way back its connection was offered. Connections come and go with the
    // hosts' attaches; the oldest are forgotten past this many.
    private const int ConnectionsRemembered = 64;

    private readonly Lazy<(GrpcChannel Channel, PluginHost.PluginHostClient Client)>? _connection;
    private readonly AttachedTls? _attached;
    private readonly Lock _offerLock = new();
    private readonly Dictionary<string, Offered> _offerByConnection = new(StringComparer.Ordinal);
    private readonly Queue<string> _connectionsInOrder = new();
    private readonly Dictionary<string, (string Token, GrpcChannel Channel, PluginHost.PluginHostClient Client)> _channelByAddress = new(StringComparer.Ordinal);
    private volatile Offered? _offer;

    public PluginHostClient(WorkerEnvironment environment, AttachedTls? attached = null)
    {
        const string prefix = "unix://";
        if (environment.Attached is not null)
        {
            // The address and token come with the host's Describe, at every attach.
            _attached = attached ?? throw new ArgumentNullException(nameof(attached), "an attached worker calls back with its own certificate");
            return;
        }

        if (!environment.HostAddress.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"PLUGIN_HOST_ADDRESS '{environment.HostAddress}' is not a unix:// address.");
        }

        // Most plugins never call back; the channel is built on the first call, not at start.
        _connection = new(() =>
        {
            var channel = UnixSocketChannel.Create(environment.HostAddress[prefix.Length..], RetryPacedWrites());
            return (channel, WithToken(channel, environment.Token));
        });
    }

    /// <summary>False for an attached worker the host offered no way back (yet).</summary>
    public bool CanCallBack => _attached is null || _offer is not null;

    /// <summary>
    /// Takes the way back an attached worker's host offers in Describe, over the host's
    /// <paramref name="connection"/> (the call's peer). A new attach brings a new token (the host
    /// voids the last one when it lets go), so the channel to that host follows it.
    /// </summary>
    public void Offer(string address, string token, string? connection = null)
    {
        GrpcChannel? replaced = null;
        lock (_offerLock)
        {
            if (_attached is null)
            {
                return;
            }

            var offer = new Offered(address, token);
            _offer = offer;
            if (connection is not null && _offerByConnection.TryAdd(connection, offer))
            {
                _connectionsInOrder.Enqueue(connection);
                if (_connectionsInOrder.Count > ConnectionsRemembered)
                {
                    _offerByConnection.Remove(_connectionsInOrder.Dequeue());
                }
            }
            else if (connection is not null)
            {
                _offerByConnection[connection] = offer;
            }

            if (_channelByAddress.TryGetValue(address, out var current) && current.Token != token)
            {
                replaced = current.Channel;
                _channelByAddress.Remove(address);
            }
        }

        replaced?.Dispose();
    }

    private PluginHost.PluginHostClient Client => ClientFor(null);

    /// <summary>The way back for a call made for a request that came over <paramref name="connection"/>; the last one offered for any other.</summary>
    private PluginHost.PluginHostClient ClientFor(string? connection) => _connection?.Value.Client ?? AttachedClient(connection);

    private PluginHost.PluginHostClient AttachedClient(string? connection)
    {
        lock (_offerLock)
        {
            var offer = connection is not null && _offerByConnection.TryGetValue(connection, out var its) ? its : _offer;
            if (offer is null)
            {
                throw new InvalidOperationException(
                    "This plugin runs attached (PLUGIN_ATTACH_LISTEN), and its host offers it no way back: the host's PluginHost API (settings reads and writes) needs PluginHost:Attach:CallbackListen and CallbackAddress set in the host. Until then its settings arrive through Configure (IPlugin's settings callback) only.");
            }

            if (_channelByAddress.TryGetValue(offer.Address, out var cached) && cached.Token == offer.Token)
            {
                return cached.Client;
            }

            cached.Channel?.Dispose();
            var channel = AttachedHostChannel.Create(new Uri(offer.Address), _attached!, RetryPacedWrites());
            var client = WithToken(channel, offer.Token);
            _channelByAddress[offer.Address] = (offer.Token, channel, client);
            return client;
        }
    }

    private sealed record Offered(string Address, string Token);

    private static PluginHost.PluginHostClient WithToken(GrpcChannel channel, string token) =>
        new(channel.Intercept(metadata =>
        {
            metadata.Add(HandshakeEnvironment.TokenMetadataKey, token);
            return metadata;
        }));

    public async Task<string> GetSettingsJsonAsync(string? tenantId = null, CancellationToken cancellationToken = default)
    {
        var reply = await Client.GetSettingsAsync(new GetSettingsRequest { TenantId = tenantId ?? string.Empty }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return reply.SettingsJson;
    }

    public async Task<long> PutSettingsJsonAsync(string settingsJson, string? tenantId = null, CancellationToken cancellationToken = default)
    {
        var reply = await Client.PutSettingsAsync(new PutSettingsRequest { TenantId = tenantId ?? string.Empty, SettingsJson = settingsJson }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return reply.Revision;
    }

    /// <summary>Opens the stream of a route request's body that the host kept back (its head's body_id), from the host whose <paramref name="connection"/> the request came over.</summary>
    public AsyncServerStreamingCall<HttpBodyChunk> ReadHttpBody(string bodyId, string? connection, CancellationToken cancellationToken) =>
        ClientFor(connection).ReadHttpBody(new ReadHttpBodyRequest { BodyId = bodyId }, cancellationToken: cancellationToken);

    public void Dispose()
    {
        if (_connection is { IsValueCreated: true })
        {
            _connection.Value.Channel.Dispose();
        }

        lock (_offerLock)
        {
            foreach (var (_, channel, _) in _channelByAddress.Values)
            {
                channel.Dispose();
            }

            _channelByAddress.Clear();
        }
    }
}
