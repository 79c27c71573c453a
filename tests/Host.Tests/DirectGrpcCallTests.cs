using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Connection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Tests;

/// <summary>
/// The direct gRPC call (a route's HandleHttpBuffered here) against a real HTTP/2 server on a Unix socket that
/// answers as a worker may, well or badly: each answer must come out as Grpc.Net.Client's would.
/// </summary>
public sealed class DirectGrpcCallTests : IAsyncLifetime
{
    private const string Token = "the-token";
    private readonly string _directory = Directory.CreateTempSubdirectory("gpt-direct-").FullName;
    private WebApplication? _server;
    private int _served;

    private string SocketPath => Path.Combine(_directory, "w.sock");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(SocketPath, l => l.Protocols = HttpProtocols.Http2));
        _server = builder.Build();
        _server.MapPost("/plugin.v1.Plugin/InvokeHook", ServeHookAsync);
        _server.MapPost("/plugin.v1.Plugin/{mode}", ServeAsync);
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ReadsEveryMessage_SendsTheRequestFramedWithTheToken_AndEndsOnAnOkStatus()
    {
        using var connection = new WorkerConnection(SocketPath, Token);
        var (answer, call) = Call(connection, "ok");
        using (call)
        {
            var frames = new List<HttpResponseFrame>();
            while (await answer.MoveNext(CancellationToken.None))
            {
                frames.Add(answer.Current);
            }

            Assert.Equal(2, frames.Count);
            Assert.Equal(200, frames[0].Head.StatusCode);
            // The server echoes what it parsed from the request: its path and the token it was given.
            Assert.Equal("/asked " + Token, frames[1].BodyChunk.ToStringUtf8());
        }
    }

    [Fact]
    public async Task MessagesLargerThanOneRead_AndManyInOneRead_AllArriveWhole()
    {
        using var connection = new WorkerConnection(SocketPath, Token);
        var (answer, call) = Call(connection, "large");
        using (call)
        {
            var sizes = new List<int>();
            while (await answer.MoveNext(CancellationToken.None))
            {
                Assert.True(answer.Current.BodyChunk.Span.IndexOfAnyExcept((byte)'x') < 0, "a chunk arrived with bytes of another");
                sizes.Add(answer.Current.BodyChunk.Length);
            }

            Assert.Equal([200_000, 1, 1, 1, 70_000, 3], sizes);
        }
    }

    [Fact]
    public async Task ATrailersOnlyOkAnswer_EndsTheCallWithoutAMessage()
    {
        using var connection = new WorkerConnection(SocketPath, Token);
        var (answer, call) = Call(connection, "emptyok");
        using (call)
        {
            Assert.False(await answer.MoveNext(CancellationToken.None));
        }
    }

    [Theory]
    [InlineData("failed", StatusCode.PermissionDenied, "nö 50%")]
    [InlineData("http503", StatusCode.Unavailable, "HTTP status code: 503")]
    [InlineData("cut", StatusCode.Internal, "ended inside a message")]
    [InlineData("nostatus", StatusCode.Internal, "without a grpc-status")]
    [InlineData("garbage", StatusCode.Internal, "is not a HttpResponseFrame")]
    [InlineData("compressed", StatusCode.Internal, "compressed")]
    public async Task AnAnswerThatFails_IsTheRpcExceptionGrpcsClientWouldThrow(string mode, StatusCode code, string detail)
    {
        using var connection = new WorkerConnection(SocketPath, Token);
        var (answer, call) = Call(connection, mode);
        using (call)
        {
            var failure = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await answer.MoveNext(CancellationToken.None))
                {
                }
            });

            Assert.Equal(code, failure.StatusCode);
            Assert.Contains(detail, failure.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AHookCall_TakesItsOneAnswer()
    {
        using var connection = new WorkerConnection(SocketPath, Token);

        var response = await connection.InvokeHookAsync(new HookRequest { Point = "one" }, CancellationToken.None);

        Assert.Equal(418, response.ShortCircuit.StatusCode);
    }

    [Theory]
    [InlineData("none", "no HookResponse")]
    [InlineData("two", "more than one HookResponse")]
    public async Task AHookCallAnsweredWithNoneOrTwoMessages_IsInternal(string point, string detail)
    {
        using var connection = new WorkerConnection(SocketPath, Token);

        var failure = await Assert.ThrowsAsync<RpcException>(() => connection.InvokeHookAsync(new HookRequest { Point = point }, CancellationToken.None));

        Assert.Equal(StatusCode.Internal, failure.StatusCode);
        Assert.Contains(detail, failure.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARequestOverTheMessageLimit_IsResourceExhausted_AndNeverSent()
    {
        using var connection = new WorkerConnection(SocketPath, Token);
        var request = Request("ok");
        request.Body = ByteString.CopyFrom(new byte[UnixSocketChannel.MaxMessageBytes]);
        var (answer, call) = connection.HandleHttpBuffered(request, CancellationToken.None);
        using (call)
        {
            var failure = await Assert.ThrowsAsync<RpcException>(() => answer.MoveNext(CancellationToken.None));

            Assert.Equal(StatusCode.ResourceExhausted, failure.StatusCode);
            Assert.Contains("Sending message exceeds", failure.Status.Detail, StringComparison.Ordinal);
        }

        // The call after it takes the same connection: nothing of the refused one was on it.
        Assert.Equal(0, Volatile.Read(ref _served));
        var (next, nextCall) = Call(connection, "ok");
        using (nextCall)
        {
            Assert.True(await next.MoveNext(CancellationToken.None));
        }

        Assert.Equal(1, Volatile.Read(ref _served));
    }

    [Fact]
    public async Task AWorkerThatIsGone_IsUnavailable_WithTheCauseKept()
    {
        using var connection = new WorkerConnection(Path.Combine(_directory, "nobody.sock"), Token);
        var (answer, call) = Call(connection, "ok");
        using (call)
        {
            var failure = await Assert.ThrowsAsync<RpcException>(() => answer.MoveNext(CancellationToken.None));

            Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
            Assert.IsType<HttpRequestException>(failure.Status.DebugException);
        }
    }

    [Fact]
    public async Task ACancelledCall_IsCancelled_WhileTheWorkerHangs()
    {
        using var connection = new WorkerConnection(SocketPath, Token);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var (answer, call) = connection.HandleHttpBuffered(Request("hang"), cancel.Token);
        using (call)
        {
            var failure = await Assert.ThrowsAsync<RpcException>(() => answer.MoveNext(cancel.Token));

            Assert.Equal(StatusCode.Cancelled, failure.StatusCode);
        }
    }

    private static HttpBufferedRequest Request(string mode) => new() { Head = new HttpRequestHead { Method = "GET", Path = "/asked" }, Body = ByteString.CopyFromUtf8(mode) };

    private static (IAsyncStreamReader<HttpResponseFrame> Answer, IDisposable Call) Call(WorkerConnection connection, string mode) =>
        connection.HandleHttpBuffered(Request(mode), CancellationToken.None);

    // Every mode is reached at HandleHttpBuffered's path; the mode travels in the request's body.
    private async Task ServeAsync(HttpContext context)
    {
        Interlocked.Increment(ref _served);
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var request = HttpBufferedRequest.Parser.ParseFrom(body.ToArray().AsSpan(5));
        var mode = request.Body.ToStringUtf8();
        var token = context.Request.Headers[HandshakeEnvironment.TokenMetadataKey].ToString();
        var response = context.Response;
        if (mode == "http503")
        {
            response.StatusCode = 503;
            return;
        }

        response.ContentType = "application/grpc";
        switch (mode)
        {
            case "failed":
                response.Headers["grpc-status"] = "7";
                response.Headers["grpc-message"] = "n%C3%B6 50%25";
                return;
            case "emptyok":
                response.Headers["grpc-status"] = "0";
                return;
            case "hang":
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
                return;
            case "large":
                foreach (var size in new[] { 200_000, 1, 1, 1, 70_000, 3 })
                {
                    await response.Body.WriteAsync(Framed(new HttpResponseFrame { BodyChunk = ByteString.CopyFrom(Enumerable.Repeat((byte)'x', size).ToArray()) }.ToByteArray()));
                }

                break;
            case "garbage":
                await response.Body.WriteAsync(Framed([0xff, 0xff, 0xff]));
                break;
            case "compressed":
                var compressed = Framed(new HttpResponseFrame { BodyChunk = ByteString.CopyFromUtf8("x") }.ToByteArray());
                compressed[0] = 1;
                await response.Body.WriteAsync(compressed);
                break;
            default:
                await response.Body.WriteAsync(Framed(new HttpResponseFrame { Head = new HttpResponseHead { StatusCode = 200 } }.ToByteArray()));
                await response.Body.WriteAsync(Framed(new HttpResponseFrame { BodyChunk = ByteString.CopyFromUtf8($"{request.Head.Path} {token}") }.ToByteArray()));
                if (mode == "cut")
                {
                    await response.Body.WriteAsync(new byte[] { 0, 0, 0, 0, 9, 1, 2 });
                }

                break;
        }

        if (mode != "nostatus")
        {
            response.AppendTrailer("grpc-status", "0");
        }
    }

    // InvokeHook, unary: as many answers as the hook point's name says.
    private static async Task ServeHookAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var request = HookRequest.Parser.ParseFrom(body.ToArray().AsSpan(5));
        context.Response.ContentType = "application/grpc";
        var answers = request.Point switch { "one" => 1, "two" => 2, _ => 0 };
        for (var i = 0; i < answers; i++)
        {
            await context.Response.Body.WriteAsync(Framed(new HookResponse { ShortCircuit = new HookShortCircuit { StatusCode = 418 } }.ToByteArray()));
        }

        context.Response.AppendTrailer("grpc-status", "0");
    }

    private static byte[] Framed(byte[] message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, 5);
        return framed;
    }
}
