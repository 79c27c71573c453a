using System.Net.Security;
using System.Net.Sockets;
using Grpc.Net.Client;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Supervisor.Attach;

/// <summary>Creates gRPC channels over HTTP/2 with mutual TLS to a worker that runs elsewhere.</summary>
internal static class TlsChannel
{
    /// <summary>A channel over one connection at a time; <paramref name="mayConnect"/> is asked before each one is opened.</summary>
    public static GrpcChannel Create(Uri address, AttachCredentials credentials, ServerCertificateCheck check, Func<bool> mayConnect)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                if (!mayConnect())
                {
                    throw new HttpRequestException($"the connection to the attached worker at {address} was lost; it is attached again (Describe, Configure) before it is called");
                }

                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [credentials.Certificate],
                // The name in the address is checked by the platform; the chain only against the private CA.
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => check.Accepts(certificate, chain, errors),
            },
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // One connection, so that a second one can only mean the first was lost.
            EnableMultipleHttp2Connections = false,
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
