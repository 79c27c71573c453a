using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// Kestrel on the worker's Unix socket (or, attached, on TCP with mutual TLS), HTTP/2 only, serving a <see cref="GrpcDispatcher"/>.
/// Built by hand rather than through a web host: the host, its dependency
/// injection and endpoint routing were most of a NativeAOT worker's start.
/// </summary>
internal sealed class WorkerServer : IAsyncDisposable
{
    private readonly IServer _kestrel;
    private readonly WebApplication? _host;
    private readonly GrpcDispatcher _dispatcher;

    public WorkerServer(string socketPath, int? hostPid, GrpcDispatcher dispatcher, ILoggerFactory loggers)
    {
        var options = CreateOptions(EmptyServiceProvider.Instance);
        options.ListenUnixSocket(socketPath, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (hostPid is { } host)
            {
                // Every plugin runs as the same user, so another can reach this socket, and read
                // the token from this process's environment: only the host's connections are taken.
                listen.Use(next => connection =>
                    connection.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { } socket
                    && GrpcPlugins.Protocol.PeerCredentials.PidOf(socket) is { } peer && peer != host
                        ? RefuseAsync(connection, peer)
                        : next(connection));
            }
        });
        _kestrel = new KestrelServer(Options.Create(options), new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggers), loggers);
        _dispatcher = dispatcher;
    }

    /// <summary>
    /// An attached worker's server: TCP, HTTP/2 over TLS, and a client certificate that chains
    /// to <paramref name="clientAuthorities"/> required before any request is read. Kestrel's
    /// HTTPS needs the services its own hosting registers, so this one is built by a web host
    /// with no configuration sources; an attached worker is long-lived, and its start is not
    /// on anyone's clock.
    /// </summary>
    public WorkerServer(System.Net.IPEndPoint endpoint, X509Certificate2 certificate, X509Certificate2Collection clientAuthorities, GrpcDispatcher dispatcher, ILoggerFactory loggers)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggers);
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().ConfigureKestrel(options =>
        {
            Configure(options);
            options.Listen(endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                    ClientCertificateValidation = (client, chain, _) => GrpcPlugins.Protocol.PinnedTrust.ChainsTo(client, chain, clientAuthorities),
                });
            });
        });
        _host = builder.Build();
        _kestrel = _host.Services.GetRequiredService<IServer>();
        _dispatcher = dispatcher;
    }

    private static Task RefuseAsync(Microsoft.AspNetCore.Connections.ConnectionContext connection, int peer)
    {
        connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException($"process {peer} is not this worker's host"));
        return Task.CompletedTask;
    }

    private static KestrelServerOptions CreateOptions(IServiceProvider services)
    {
        // Kestrel asks its options for services only for features a spawned worker does not use (HTTPS, configuration).
        var options = new KestrelServerOptions { ApplicationServices = services };
        Configure(options);
        return options;
    }

    private static void Configure(KestrelServerOptions options)
    {
        options.AddServerHeader = false;
        options.Limits.Http2.MaxStreamsPerConnection = 1000;
        // A route's upload may trickle (a client streaming slowly through the host); gRPC limits each message instead.
        options.Limits.MinRequestBodyDataRate = null;
    }

    public Task StartAsync(CancellationToken cancellationToken) => KestrelApplication.StartAsync(_kestrel, _dispatcher, cancellationToken);

    /// <summary>Lets calls in flight finish until <paramref name="cancellationToken"/> fires, then aborts them.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _kestrel.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_host is null)
        {
            _kestrel.Dispose();
            return;
        }

        // The host owns its server.
        await _host.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
