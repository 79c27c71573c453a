using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// Kestrel on the worker's Unix socket, HTTP/2 only, serving a <see cref="GrpcDispatcher"/>.
/// Built by hand rather than through a web host: the host, its dependency
/// injection and endpoint routing were most of a NativeAOT worker's start.
/// </summary>
internal sealed class WorkerServer : IAsyncDisposable
{
    private readonly KestrelServer _kestrel;
    private readonly GrpcDispatcher _dispatcher;

    public WorkerServer(string socketPath, GrpcDispatcher dispatcher, ILoggerFactory loggers)
    {
        var options = new KestrelServerOptions
        {
            AddServerHeader = false,
            // Kestrel asks its options for services only for features a worker does not use (HTTPS, configuration).
            ApplicationServices = EmptyServiceProvider.Instance,
        };
        options.Limits.Http2.MaxStreamsPerConnection = 1000;
        // A route's upload may trickle (a client streaming slowly through the host); gRPC limits each message instead.
        options.Limits.MinRequestBodyDataRate = null;
        options.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
        _kestrel = new KestrelServer(Options.Create(options), new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggers), loggers);
        _dispatcher = dispatcher;
    }

    public Task StartAsync(CancellationToken cancellationToken) => KestrelApplication.StartAsync(_kestrel, _dispatcher, cancellationToken);

    /// <summary>Lets calls in flight finish until <paramref name="cancellationToken"/> fires, then aborts them.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _kestrel.StopAsync(cancellationToken);

    public ValueTask DisposeAsync()
    {
        _kestrel.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
