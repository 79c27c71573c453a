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
/// server on a Unix socket, behind YARP's forwarder on 127.0.0.1.
/// </summary>
internal sealed class YarpBaseline : IAsyncDisposable
{
    private readonly WebApplication _backend;
    private readonly WebApplication _proxy;
    private readonly string _directory;

    private YarpBaseline(WebApplication backend, WebApplication proxy, string directory)
    {
        _backend = backend;
        _proxy = proxy;
        _directory = directory;
        Address = new Uri(proxy.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri Address { get; }

    public static async Task<YarpBaseline> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("gpb-yarp-").FullName;
        var socket = Path.Combine(directory, "backend.sock");

        var backendBuilder = WebApplication.CreateSlimBuilder();
        backendBuilder.Logging.ClearProviders();
        backendBuilder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket, l => l.Protocols = HttpProtocols.Http1AndHttp2));
        var backend = backendBuilder.Build();
        backend.MapGet("/ping", () => Results.Text(new JsonObject { ["plugin"] = "hello", ["version"] = "1.0.0", ["pid"] = Environment.ProcessId }.ToJsonString(), "application/json"));
        await backend.StartAsync();

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
        proxy.Map("/yarp/{**rest}", async (HttpContext context, string? rest) =>
        {
            context.Request.Path = "/" + rest;
            await forwarder.SendAsync(context, "http://localhost/", invoker, ForwarderRequestConfig.Empty, HttpTransformer.Default);
        });
        await proxy.StartAsync();
        return new YarpBaseline(backend, proxy, directory);
    }

    public async ValueTask DisposeAsync()
    {
        await _proxy.StopAsync();
        await _backend.StopAsync();
        await _proxy.DisposeAsync();
        await _backend.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
