using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// What a user would deploy instead: the same /ping handler in a Kestrel
/// server on a Unix socket, behind YARP's forwarder on 127.0.0.1. The backend
/// runs either in the benchmark's process or in a process of its own, as a
/// plugin does.
/// </summary>
internal sealed class YarpBaseline : IAsyncDisposable
{
    /// <summary>The argument that makes this program the separate backend.</summary>
    public const string BackendCommand = "yarp-backend";

    /// <summary>The backend's argument after its socket that makes it serve HTTP/2 alone.</summary>
    public const string Http2Argument = "h2";

    private readonly WebApplication? _backend;
    private readonly Process? _backendProcess;
    private readonly WebApplication _proxy;
    private readonly string _directory;

    private YarpBaseline(WebApplication? backend, Process? backendProcess, WebApplication proxy, string directory)
    {
        _backend = backend;
        _backendProcess = backendProcess;
        _proxy = proxy;
        _directory = directory;
        Address = new Uri(proxy.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri Address { get; }

    /// <summary>
    /// Starts the proxy and its backend. With <paramref name="http2"/> the proxy speaks HTTP/2
    /// (prior knowledge, no TLS) to a backend that serves HTTP/2 alone: the framework's HTTP/2
    /// client and server, which a route's gRPC leg rides on, without gRPC or any code of ours.
    /// </summary>
    public static async Task<YarpBaseline> StartAsync(bool backendInOwnProcess, bool http2 = false)
    {
        var directory = Directory.CreateTempSubdirectory("gpb-yarp-").FullName;
        var socket = Path.Combine(directory, "backend.sock");

        WebApplication? backend = null;
        Process? backendProcess = null;
        if (backendInOwnProcess)
        {
            backendProcess = await StartBackendProcessAsync(socket, http2);
        }
        else
        {
            backend = BuildBackend(socket, http2);
            await backend.StartAsync();
        }

        var proxyBuilder = WebApplication.CreateSlimBuilder();
        proxyBuilder.Logging.ClearProviders();
        proxyBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        proxyBuilder.Services.AddHttpForwarder();
        var proxy = proxyBuilder.Build();
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        });
        var forwarder = proxy.Services.GetRequiredService<IHttpForwarder>();
        var config = http2 ? new ForwarderRequestConfig { Version = System.Net.HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact } : ForwarderRequestConfig.Empty;
        proxy.MapGet("/bench/pong", () => "pong");
        proxy.Map("/yarp/{**rest}", async (HttpContext context, string? rest) =>
        {
            context.Request.Path = "/" + rest;
            await forwarder.SendAsync(context, "http://localhost/", invoker, config, HttpTransformer.Default);
        });
        await proxy.StartAsync();
        return new YarpBaseline(backend, backendProcess, proxy, directory);
    }

    /// <summary>The backend as a process of its own: serves until its stdin closes, as a worker does.</summary>
    public static async Task RunBackendAsync(string socket, bool http2)
    {
        await using var backend = BuildBackend(socket, http2);
        await backend.StartAsync();
        Console.WriteLine("ready");
        await Console.In.ReadToEndAsync();
        await backend.StopAsync();
    }

    private static WebApplication BuildBackend(string socket, bool http2)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket, l => l.Protocols = http2 ? HttpProtocols.Http2 : HttpProtocols.Http1AndHttp2));
        var backend = builder.Build();
        backend.UseWebSockets();
        // Hello's /greet: each text message answered with a greeting, until the client closes.
        backend.Map("/greet", async (HttpContext context) =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (await socket.ReceiveAsync(buffer, context.RequestAborted) is { MessageType: not System.Net.WebSockets.WebSocketMessageType.Close } got)
            {
                var name = System.Text.Encoding.UTF8.GetString(buffer, 0, got.Count);
                await socket.SendAsync(System.Text.Encoding.UTF8.GetBytes($"hello, {name}, from hello 1.0.0"), System.Net.WebSockets.WebSocketMessageType.Text, true, context.RequestAborted);
            }

            await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
        });
        static IResult Ping() => Results.Text(new JsonObject { ["plugin"] = "hello", ["version"] = "1.0.0", ["pid"] = Environment.ProcessId }.ToJsonString(), "application/json");
        backend.MapGet("/ping", Ping);

        // The same answer to a request with a small body, read to its end: what a body costs a request.
        backend.MapPost("/ping", async (HttpContext context) =>
        {
            var buffer = new byte[256];
            while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
            {
            }

            return Ping();
        });

        // The test plugin's /bytes and /upload, for the transfer rows: the same bytes in the same writes.
        backend.MapGet("/bytes", async (HttpContext context, long n) =>
        {
            const int write = 64 * 1024;
            var pattern = new byte[write + 251];
            for (var i = 0; i < pattern.Length; i++)
            {
                pattern[i] = (byte)(i % 251);
            }

            context.Response.ContentType = "application/octet-stream";
            for (long sent = 0; sent < n; sent += write)
            {
                await context.Response.Body.WriteAsync(pattern.AsMemory((int)(sent % 251), (int)Math.Min(write, n - sent)), context.RequestAborted);
            }
        });
        backend.MapPost("/upload", async (HttpContext context) =>
        {
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                total += read;
            }

            return Results.Text(new JsonObject { ["bytes"] = total }.ToJsonString(), "application/json");
        });
        return backend;
    }

    private static async Task<Process> StartBackendProcessAsync(string socket, bool http2)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(typeof(YarpBaseline).Assembly.Location);
        start.ArgumentList.Add(BackendCommand);
        start.ArgumentList.Add(socket);
        if (http2)
        {
            start.ArgumentList.Add(Http2Argument);
        }

        // The same runtime settings the host gives its workers.
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (name, value) in BenchHost.ExtraWorkerEnvironment())
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        if (await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) != "ready")
        {
            process.Kill();
            throw new InvalidOperationException("the YARP backend process did not start");
        }

        return process;
    }

    public int? BackendPid => _backendProcess?.Id;

    public async ValueTask DisposeAsync()
    {
        await _proxy.StopAsync();
        await _proxy.DisposeAsync();
        if (_backend is not null)
        {
            await _backend.StopAsync();
            await _backend.DisposeAsync();
        }

        if (_backendProcess is not null)
        {
            _backendProcess.StandardInput.Close();
            if (!_backendProcess.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                _backendProcess.Kill();
            }

            _backendProcess.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }
}
