using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Sdk.HostApi;

/// <summary>An attached worker's channel back to its host: HTTP/2 over TLS, its own certificate presented, only the host's CA trusted.</summary>
internal static class AttachedHostChannel
{
    public static GrpcChannel Create(Uri address, AttachedTls tls, ServiceConfig serviceConfig) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions =
                {
                    ClientCertificates = [tls.Certificate],
                    RemoteCertificateValidationCallback = (_, certificate, chain, errors) => PinnedTrust.AcceptsServer(certificate, chain, errors, tls.HostAuthorities),
                },
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                EnableMultipleHttp2Connections = true,
            },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = UnixSocketChannel.MaxMessageBytes,
            MaxSendMessageSize = UnixSocketChannel.MaxMessageBytes,
            ServiceConfig = serviceConfig,
        });
}
