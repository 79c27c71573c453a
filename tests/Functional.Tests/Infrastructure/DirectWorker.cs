using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// The test plugin started without a host, with the handshake environment a
/// host would give it, so a test can speak raw HTTP/2 to its gRPC server.
/// Disposing closes its stdin, kills it if it lingers, and removes its directory.
/// </summary>
internal sealed class DirectWorker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private DirectWorker(Process process, string directory, string socketPath, string token, ConcurrentQueue<string> stderr)
    {
        Stderr = stderr;
        _process = process;
        _directory = directory;
        SocketPath = socketPath;
        Token = token;
        Http = new HttpClient(new SocketsHttpHandler { ConnectCallback = ConnectAsync }) { BaseAddress = new Uri("http://worker") };
    }

    public string SocketPath { get; }

    public string Token { get; }

    public int Pid => _process.Id;

    /// <summary>What the worker has written to stderr so far, a line each.</summary>
    public ConcurrentQueue<string> Stderr { get; }

    public HttpClient Http { get; }

    public static async Task<DirectWorker> StartAsync(string mode, params string[] extraArgs)
    {
        var directory = Directory.CreateTempSubdirectory("direct-worker-").FullName;
        var token = Guid.NewGuid().ToString("N");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { TestPaths.TestPlugin, mode }.Concat(extraArgs))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[HandshakeEnvironment.MagicCookieKey] = HandshakeEnvironment.MagicCookieValue;
        start.Environment[HandshakeEnvironment.ProtocolVersions] = "1";
        start.Environment[HandshakeEnvironment.SocketDirectory] = directory;
        start.Environment[HandshakeEnvironment.HostAddress] = "unix://" + Path.Combine(directory, "no-host.sock");
        start.Environment[HandshakeEnvironment.Token] = token;
        start.Environment[HandshakeEnvironment.PluginId] = "direct";
        // Its runtime's files too, so a worker killed at disposal leaves none in /tmp.
        start.Environment["TMPDIR"] = directory;
        var process = Process.Start(start)!;
        var stderr = new ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } data)
            {
                stderr.Enqueue(data);
            }
        };
        process.BeginErrorReadLine();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("the worker closed stdout before its handshake");
            return new DirectWorker(process, directory, line.Split('|')[3], token, stderr);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>A gRPC request with the worker's token and <paramref name="body"/> as the request's bytes (frames included).</summary>
    public HttpRequestMessage Request(string path, byte[] body, bool withToken = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        if (withToken)
        {
            request.Headers.Add(HandshakeEnvironment.TokenMetadataKey, Token);
        }

        return request;
    }

    /// <summary>Waits for the process to exit on its own; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.StandardInput.Close();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
