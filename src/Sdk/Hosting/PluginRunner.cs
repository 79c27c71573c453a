using System.Runtime.InteropServices;
using Grpc.Health.V1;
using GrpcPlugins.Sdk.HostApi;
using GrpcPlugins.Sdk.Logging;
using GrpcPlugins.Sdk.Server;
using GrpcPlugins.Sdk.Services;
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
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a stop waits for open WebSockets' handlers to see it and send their close (1001, going away).</summary>
    private static readonly TimeSpan s_socketCloseWait = TimeSpan.FromSeconds(1);

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
        if (!AttachedWorkers.IsSupported && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(GrpcPlugins.Protocol.HandshakeEnvironment.AttachListen)))
        {
            // Said before anything else about the environment: no other setting would make it serve attached.
            await Console.Error.WriteLineAsync("PLUGIN_ATTACH_LISTEN is set, but this plugin was published without attached-worker support (a trimmed or NativeAOT publish leaves it out). Set <GrpcPluginsAttachedWorkers>true</GrpcPluginsAttachedWorkers> in its project and publish it again.").ConfigureAwait(false);
            return 1;
        }

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

        // The runtime calibrates its processor-id cache the first time anything asks for it, which
        // is the buffer pools on the host's first call: ~1 ms in a NativeAOT worker, whose
        // calibration loop takes the class-initialization lock on every turn. A pool thread
        // does it now, beside the start below (which starts the pool anyway).
        ThreadPool.UnsafeQueueUserWorkItem(static _ => Thread.GetCurrentProcessorId(), null);

        using var loggers = CreateLoggers();
        KestrelWarmUp.Start(loggers.CreateLogger(typeof(KestrelWarmUp).FullName!));
        using var lifetime = new WorkerLifetime();
        AttachedTls? tls = null;
        if (environment.Attached is { } attached && (tls = AttachedTls.Load(attached, out var tlsError)) is null)
        {
            await Console.Error.WriteLineAsync(tlsError).ConfigureAwait(false);
            return 1;
        }

        using var host = new PluginHostClient(environment, tls);

        // The plugin's own configuration and the server's start do not depend on each other
        // until the first call, which comes after the handshake line: they run side by side
        // (~1 ms off a NativeAOT worker's start). A plugin whose Configure throws still fails
        // before its handshake, with the exception on stderr.
        var methods = Task.Run(() => CreateMethods(Build(plugin, environment, loggers), host, lifetime, loggers), cancellationToken);
        var dispatcher = new GrpcDispatcher(environment.Token, GrpcPlugins.Protocol.UnixSocketChannel.MaxMessageBytes, TimeProvider.System, loggers.CreateLogger<GrpcDispatcher>(), lifetime.Stopping);
        string? socketPath = null;
        WorkerServer server;
        // The feature check first: a publish without it removes the attached server's code.
        if (AttachedWorkers.IsSupported && environment.Attached is { } listener)
        {
            server = new WorkerServer(listener.Endpoint, tls!.Certificate, tls.HostAuthorities, dispatcher, loggers);
        }
        else
        {
            socketPath = Path.Combine(environment.SocketDirectory, SocketFileName);
            server = new WorkerServer(socketPath, environment.HostPid, dispatcher, loggers);
        }

        await using var serving = server;
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        dispatcher.Serve(await methods.ConfigureAwait(false));

        // The host stops a worker with Shutdown, then SIGTERM, then SIGKILL; the first two
        // drain. The handlers come before the handshake: a SIGTERM right after it must drain
        // too, not kill the process by the signal's default action.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopOn(lifetime));
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, StopOn(lifetime));
        using var stopRequested = cancellationToken.Register(lifetime.Stop);

        if (socketPath is null)
        {
            // Attached: nobody reads a handshake line, and stdin belongs to whoever runs the
            // worker (a container without one reads end-of-file at once); a signal stops it.
            await Console.Error.WriteLineAsync($"serving plugin '{plugin.Id}' over mutual TLS on {environment.Attached!.Endpoint}").ConfigureAwait(false);
        }
        else
        {
            // The handshake line is the only thing this process ever writes to stdout. The stdin
            // watch starts after it: its thread costs a NativeAOT worker ~2 ms, and the host
            // closes stdin only after it has the line.
            StandardStreams.WriteLineToOutput($"1|{version}|unix|{socketPath}|grpc");
            WatchStdin(lifetime);
        }

        await lifetime.Stopping.WhenCancelledAsync().ConfigureAwait(false);
        await lifetime.WhenSocketsClosedAsync(s_socketCloseWait, TimeProvider.System).ConfigureAwait(false);
        using var drain = new CancellationTokenSource(s_drainTimeout);
        await server.StopAsync(drain.Token).ConfigureAwait(false);
        return 0;
    }

    private static PluginDefinition Build(IPlugin plugin, WorkerEnvironment environment, LoggerFactory loggers)
    {
        var builder = new PluginBuilder(loggers.CreateLogger(plugin.Id)) { DataDirectory = environment.DataDirectory, DataLimitBytes = environment.DataLimitBytes, CpuLimit = environment.CpuLimit };
        plugin.Configure(builder);
        return builder.Build(plugin);
    }

    private static ServerMethodTable CreateMethods(PluginDefinition definition, PluginHostClient host, WorkerLifetime lifetime, ILoggerFactory loggers)
    {
        var methods = new ServerMethodTable();
        Protocol.V1.Plugin.BindTo(methods, new PluginService(definition, host, lifetime, loggers.CreateLogger<PluginService>()));
        Health.BindTo(methods, new HealthService());
        return methods;
    }

    private static LoggerFactory CreateLoggers()
    {
        // stdout belongs to the handshake: every log line goes to stderr. Kestrel
        // speaks only when something is wrong; the Sdk logs a plugin's own failures.
        var filters = new LoggerFilterOptions { MinLevel = LogLevel.Information };
        filters.Rules.Add(new LoggerFilterRule(null, "Microsoft", LogLevel.Warning, null));
        return new LoggerFactory([new StderrLoggerProvider(StandardStreams.OpenError())], filters);
    }

    private static Action<PosixSignalContext> StopOn(WorkerLifetime lifetime) => context =>
    {
        context.Cancel = true;
        lifetime.Stop();
    };

    /// <summary>Stops the worker when stdin closes: the host is gone, even if it died by SIGKILL.</summary>
    private static void WatchStdin(WorkerLifetime lifetime)
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

            lifetime.Stop();

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
