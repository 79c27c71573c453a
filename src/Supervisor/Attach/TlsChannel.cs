using System.Net.Security;
using Grpc.Net.Client;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Supervisor.Attach;

/// <summary>Creates gRPC channels over HTTP/2 with mutual TLS to a worker that runs elsewhere.</summary>
internal static class TlsChannel
{
    public static GrpcChannel Create(Uri address, AttachCredentials credentials, ServerCertificateCheck check)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [credentials.ClientCertificate],
                // The name in the address is checked by the platform; the chain only against the private CA.
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => check.Accepts(certificate, chain, errors),
            },
            ConnectTimeout = TimeSpan.FromSeconds(5),
            EnableMultipleHttp2Connections = true,
            InitialHttp2StreamWindowSize = 1024 * 1024,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            // Across a network a dead peer is only noticed by asking: pings find a silent link
            // between health probes, and a call in flight on it fails instead of waiting out its deadline.
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        };

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = UnixSocketChannel.MaxMessageBytes,
            MaxSendMessageSize = UnixSocketChannel.MaxMessageBytes,
        });
    }
}
