using Grpc.HealthCheck;
using GrpcPlugins.Sdk.HostApi;
using GrpcPlugins.Sdk.Logging;
using GrpcPlugins.Sdk.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Sdk;

/// <summary>Runs a plugin as a worker process: serves the contract until the host stops it.</summary>
public static class PluginRunner
{
    /// <summary>
    /// The ActivitySource of the Sdk's spans, one per hook call and route call,
    /// each a child of the host's span. Listen to it (for example with
    /// OpenTelemetry's AddSource) to see plugin work in the host's traces.
    /// </summary>
    public const string ActivitySourceName = "GrpcPlugins.Sdk";

    private const string SocketFileName = "plugin.sock";
    private static readonly TimeSpan s_stdinExitGrace = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Serves <paramref name="plugin"/> for the host that started this process:
    /// listens on a Unix socket in the host's socket directory, prints the
    /// handshake line, and returns when the host asks it to shut down or closes
    /// stdin. Run by hand (without the host's environment), it prints a one-line
    /// explanation and returns 1.
    /// </summary>
    /// <param name="plugin">The plugin to serve.</param>
    /// <param name="args">The process arguments (reserved).</param>
    /// <param name="cancellationToken">Stops the worker.</param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunAsync(IPlugin plugin, string[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        var environment = WorkerEnvironment.Read(Environment.GetEnvironmentVariable, out var error);
        if (environment is null)
        {
            await Console.Error.WriteLineAsync(error).ConfigureAwait(false);
            return 1;
        }

        if (environment.NegotiatedVersion is not { } version)
        {
            await Console.Error.WriteLineAsync($"The host speaks protocol versions {string.Join(",", environment.ProtocolVersions)}; this plugin's Sdk speaks {string.Join(",", WorkerEnvironment.SupportedProtocolVersions)}. Upgrade one of them.").ConfigureAwait(false);
            return 1;
        }

        var builder = new PluginBuilder();
        plugin.Configure(builder);
        var definition = builder.Build(plugin);

        await using var app = BuildApp(definition, environment);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        WatchStdin(lifetime);

        // The handshake line is the only thing this process ever writes to stdout.
        var socketPath = Path.Combine(environment.SocketDirectory, SocketFileName);
        await Console.Out.WriteLineAsync($"1|{version}|unix|{socketPath}|grpc").ConfigureAwait(false);
        await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);

        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private static WebApplication BuildApp(PluginDefinition definition, WorkerEnvironment environment)
    {
        // The plugin's own arguments are its business, not the worker's web host configuration.
        // The empty builder reads no configuration files, environment or arguments and
        // registers only what is added here, which takes ~80 ms off a JIT worker's start.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        // stdout belongs to the handshake: every log line goes to stderr.
        builder.Logging.AddProvider(new StderrLoggerProvider(Console.Error));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        // gRPC logs every failed call at Error, a probe the host gave up on (a reset
        // stream) included; the Sdk logs a plugin's own failures itself, once.
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.None);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var socketPath = Path.Combine(environment.SocketDirectory, SocketFileName);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
        });

        builder.Services.AddSingleton(environment);
        builder.Services.AddSingleton(definition);
        builder.Services.AddSingleton<IPluginHost>(sp => new PluginHostClient(environment));
        builder.Services.AddSingleton<HealthServiceImpl>();
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<TokenInterceptor>();
            o.MaxReceiveMessageSize = 16 * 1024 * 1024;
        });

        var app = builder.Build();
        app.MapGrpcService<PluginService>();
        app.MapGrpcService<HealthServiceImpl>();
        app.Services.GetRequiredService<HealthServiceImpl>().SetStatus(string.Empty, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
        return app;
    }

    /// <summary>Stops the worker when stdin closes: the host is gone, even if it died by SIGKILL.</summary>
    private static void WatchStdin(IHostApplicationLifetime lifetime)
    {
        var thread = new Thread(() =>
        {
            using var stdin = Console.OpenStandardInput();
            var buffer = new byte[256];
            try
            {
                while (stdin.Read(buffer, 0, buffer.Length) > 0)
                {
                    // Input is not part of the protocol; only its end matters.
                }
            }
            catch (IOException)
            {
                // A broken pipe is an end too.
            }

            lifetime.StopApplication();

            // Nobody is left to answer: a graceful drain has no audience, so the
            // worker gives it a short bound and then exits (a host that died by
            // SIGKILL sees its workers gone within a second).
            Thread.Sleep(s_stdinExitGrace);
            Environment.Exit(0);
        })
        {
            IsBackground = true,
            Name = "stdin-watch",
        };
        thread.Start();
    }
}
