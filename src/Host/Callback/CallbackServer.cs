using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// Serves the PluginHost service on the host's private Unix socket (and, for attached
/// workers, on a TCP port of its own with mutual TLS), in a server of its own: workers
/// never reach the public endpoints, and the public port never exposes the plugin-facing API.
/// </summary>
internal sealed class CallbackServer(HostRuntimeDirectory runtime, TokenRegistry tokens, PluginCatalog catalog, SettingsService settings, SettingsWritePace pace, Routes.PulledBodies bodies, Calls.PluginMetrics metrics, LifecycleEvents events, IOptions<PluginHostOptions> options, WorkerLauncher launcher, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    // The first listener, then one more each time the callback socket was made again (ListenAgainAsync):
    // an earlier one keeps serving the connections it has.
    private readonly List<WebApplication> _apps = [];
    private readonly SemaphoreSlim _listening = new(1, 1);
    private int _disposed;

    public Task StartAsync(CancellationToken cancellationToken) => ListenAsync(withAttachedWorkers: true, cancellationToken);

    /// <summary>
    /// Listens on the callback socket again, after something removed it under the running host
    /// (its path gone, new workers could not reach the host). The TCP listener for attached
    /// workers lost nothing and stays as it is.
    /// </summary>
    public Task ListenAgainAsync(CancellationToken cancellationToken) => ListenAsync(withAttachedWorkers: false, cancellationToken);

    private async Task ListenAsync(bool withAttachedWorkers, CancellationToken cancellationToken)
    {
        await _listening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var app = Build(withAttachedWorkers);
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _apps.Add(app);
        }
        finally
        {
            _listening.Release();
        }
    }

    private WebApplication Build(bool withAttachedWorkers)
    {
        // An empty builder: none of the application's configuration. A slim one read the working
        // directory's appsettings.json and the ASPNETCORE_ variables, and bound the application's
        // Kestrel:Endpoints too: it took the application's public port with the PluginHost service
        // on it, and the application's own start failed with "address already in use".
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.AddSingleton(tokens);
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<CallerTurns>();
        builder.Services.AddSingleton(pace);
        builder.Services.AddSingleton(bodies);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(events);
        builder.Services.AddGrpc(grpc => grpc.Interceptors.Add<StoreFailureInterceptor>());
        var connections = new PeerConnectionLimit(
            options.Value.MaxHostConnectionsPerPlugin,
            group => catalog.Entries.FirstOrDefault(e => e.Supervisor?.Snapshot.Pid == group)?.Id,
            loggerFactory.CreateLogger<PeerConnectionLimit>());
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(runtime.CallbackSocket, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            l.Use(connections.Wrap);
        }));
        if (withAttachedWorkers)
        {
            ListenForAttachedWorkers(builder);
        }

        var app = builder.Build();
        app.MapGrpcService<PluginHostGrpcService>();
        return app;
    }

    /// <summary>
    /// Attached workers reach the same service over TCP, with mutual TLS: a worker certificate
    /// from the plugins' CA before any request, then the per-attach token identifies the plugin,
    /// as a spawned worker's per-spawn token does on the socket.
    /// </summary>
    private void ListenForAttachedWorkers(WebApplicationBuilder builder)
    {
        // The credentials the launcher loaded at start: the files are read once.
        if (options.Value.Attach.Callback([]) is not { Listen: var endpoint } || launcher.Settings.Attach is not { } credentials)
        {
            return;
        }

        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            l.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = credentials.Certificate,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                ClientCertificateValidation = (certificate, chain, _) => GrpcPlugins.Protocol.PinnedTrust.ChainsTo(certificate, chain, credentials.Authorities),
            });
        }));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var app in _apps)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as itself and as a hosted service, it is disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var app in _apps)
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }

        _listening.Dispose();
    }
}
