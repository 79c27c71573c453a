using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Sdk.HostApi;

/// <summary>Calls the host's PluginHost service over its Unix socket, with this worker's token.</summary>
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

    private readonly Lazy<(GrpcChannel Channel, PluginHost.PluginHostClient Client)> _connection;

    public PluginHostClient(WorkerEnvironment environment)
    {
        const string prefix = "unix://";
        if (environment.Attached is not null)
        {
            _connection = new(static () => throw new InvalidOperationException(
                "This plugin runs attached (PLUGIN_ATTACH_LISTEN): the host's PluginHost API is not reachable from it in this version. Its settings arrive through Configure (IPlugin's settings callback); read them there, or run the plugin spawned by the host."));
            return;
        }

        if (!environment.HostAddress.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"PLUGIN_HOST_ADDRESS '{environment.HostAddress}' is not a unix:// address.");
        }

        CanCallBack = true;

        // Most plugins never call back; the channel is built on the first call, not at start.
        _connection = new(() =>
        {
            var channel = UnixSocketChannel.Create(environment.HostAddress[prefix.Length..], RetryPacedWrites());
            var token = environment.Token;
            return (channel, new PluginHost.PluginHostClient(channel.Intercept(metadata =>
            {
                metadata.Add(HandshakeEnvironment.TokenMetadataKey, token);
                return metadata;
            })));
        });
    }

    /// <summary>False for an attached worker, which has no way back to the host.</summary>
    public bool CanCallBack { get; }

    private PluginHost.PluginHostClient Client => _connection.Value.Client;

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

    /// <summary>Opens the stream of a route request's body that the host kept back (its head's body_id).</summary>
    public AsyncServerStreamingCall<HttpBodyChunk> ReadHttpBody(string bodyId, CancellationToken cancellationToken) =>
        Client.ReadHttpBody(new ReadHttpBodyRequest { BodyId = bodyId }, cancellationToken: cancellationToken);

    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value.Channel.Dispose();
        }
    }
}
