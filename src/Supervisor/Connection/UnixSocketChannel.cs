// Shared by the host and the Sdk (linked into both): one way to reach a worker or a host over a Unix socket.
using System.Net.Sockets;
using Grpc.Net.Client;

namespace GrpcPlugins.Protocol;

/// <summary>Creates gRPC channels over HTTP/2 on a Unix domain socket.</summary>
internal static class UnixSocketChannel
{
    /// <summary>The largest gRPC message either side takes (the protocol's documented limit).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>Creates a channel to the socket at <paramref name="socketPath"/>, with the retry policies of <paramref name="serviceConfig"/>, if any.</summary>
    public static GrpcChannel Create(string socketPath, Grpc.Net.Client.Configuration.ServiceConfig? serviceConfig = null) =>
        Create(CreateHandler(socketPath), serviceConfig);

    /// <summary>Creates a channel over <paramref name="handler"/>, which the channel disposes.</summary>
    public static GrpcChannel Create(SocketsHttpHandler handler, Grpc.Net.Client.Configuration.ServiceConfig? serviceConfig = null) =>
        GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
            ServiceConfig = serviceConfig,
        });

    /// <summary>The HTTP/2 connections to the socket at <paramref name="socketPath"/>.</summary>
    public static SocketsHttpHandler CreateHandler(string socketPath)
    {
        var endpoint = new UnixDomainSocketEndPoint(socketPath);
        return new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            // A proxy named in the environment (http_proxy, all_proxy: a corporate machine's, which
            // every worker inherits) would be sent what is meant for this socket, and no proxy can
            // reach it: without this no worker ever answers its first probe.
            UseProxy = false,
            // Concurrent streams beyond one connection's limit open another
            // connection instead of queueing behind it.
            EnableMultipleHttp2Connections = true,
            // A 64 KiB default would make every answer over 64 KiB wait a round trip
            // for a window update; a local socket has no bandwidth to protect.
            InitialHttp2StreamWindowSize = 1024 * 1024,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        };
    }
}
