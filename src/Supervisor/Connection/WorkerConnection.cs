using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Supervisor.Connection;

/// <summary>
/// The host's gRPC connection to one worker: every call to a spawned worker carries its
/// per-spawn token, which the worker checks.
/// </summary>
internal sealed class WorkerConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    public WorkerConnection(string socketPath, string token)
        : this(UnixSocketChannel.Create(socketPath), token)
    {
    }

    /// <summary>A connection over <paramref name="channel"/>; without a token for an attached worker, which TLS authenticates.</summary>
    public WorkerConnection(GrpcChannel channel, string? token)
    {
        _channel = channel;
        var invoker = token is null ? channel.CreateCallInvoker() : new TokenCallInvoker(channel.CreateCallInvoker(), token);
        Plugin = new Protocol.V1.Plugin.PluginClient(invoker);
        Health = new Health.HealthClient(invoker);
    }

    /// <summary>The plugin's contract.</summary>
    public Protocol.V1.Plugin.PluginClient Plugin { get; }

    /// <summary>The worker's standard health service.</summary>
    public Health.HealthClient Health { get; }

    /// <summary>Asks the worker's health service whether it serves; false on any failure.</summary>
    public async Task<bool> IsServingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await Health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.Add(timeout), cancellationToken: cancellationToken).ConfigureAwait(false);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    public void Dispose() => _channel.Dispose();
}
