using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Functional.Tests;

/// <summary>The Sdk's own gRPC server, spoken to in raw HTTP/2 frames as any client of the protos would.</summary>
public sealed class WorkerServerTests
{
    private const string InvokeHook = "/plugin.v1.Plugin/InvokeHook";
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Call_WithAGrpcTimeout_EndsWithDeadlineExceeded_WhenTheHandlerHonoursItsToken()
    {
        await using var worker = await DirectWorker.StartAsync("slow-hook", "600000");
        var request = worker.Request(InvokeHook, Frame(new HookRequest { Point = "request" }));
        request.Headers.Add("grpc-timeout", "300m");

        var (status, _) = await SendAsync(worker, request);

        Assert.Equal(StatusCode.DeadlineExceeded, status);
    }

    [Fact]
    public async Task Call_ToAMethodTheWorkerDoesNotServe_IsUnimplemented()
    {
        await using var worker = await DirectWorker.StartAsync("normal");

        var (status, message) = await SendAsync(worker, worker.Request("/plugin.v1.PluginHost/GetSettings", Frame(new GetSettingsRequest())));

        Assert.Equal(StatusCode.Unimplemented, status);
        Assert.Contains("/plugin.v1.PluginHost/GetSettings", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_WithoutTheToken_IsUnauthenticated_AndNeverReachesTheHandler()
    {
        await using var worker = await DirectWorker.StartAsync("exit-after", "1");

        var (status, _) = await SendAsync(worker, worker.Request(InvokeHook, Frame(new HookRequest { Point = "request" }), withToken: false));
        var (describe, _) = await SendAsync(worker, worker.Request("/plugin.v1.Plugin/Describe", Frame(new DescribeRequest())));

        Assert.Equal(StatusCode.Unauthenticated, status);
        // The hook would have made the worker exit: it is still there to answer.
        Assert.Equal(StatusCode.OK, describe);
    }

    [Fact]
    public async Task CompressedMessage_IsRefusedWithUnimplemented_AndSaysHowToSendIt()
    {
        await using var worker = await DirectWorker.StartAsync("normal");
        var body = Frame(new HookRequest { Point = "request" });
        body[0] = 1;

        var (status, message) = await SendAsync(worker, worker.Request(InvokeHook, body));

        Assert.Equal(StatusCode.Unimplemented, status);
        Assert.Contains("uncompressed", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MessageAnnouncedOverTheLimit_IsResourceExhausted_BeforeItsBytesAreRead()
    {
        await using var worker = await DirectWorker.StartAsync("normal");
        var prefix = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), 17 * 1024 * 1024);

        var (status, message) = await SendAsync(worker, worker.Request(InvokeHook, prefix));

        Assert.Equal(StatusCode.ResourceExhausted, status);
        Assert.Contains("limit", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnaryCall_WithTwoRequestMessages_IsInternal()
    {
        await using var worker = await DirectWorker.StartAsync("normal");
        var one = Frame(new HookRequest { Point = "request" });

        var (status, message) = await SendAsync(worker, worker.Request(InvokeHook, [.. one, .. one]));

        Assert.Equal(StatusCode.Internal, status);
        Assert.Contains("more than one", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestEndingInsideAMessage_IsInternal()
    {
        await using var worker = await DirectWorker.StartAsync("normal");
        var whole = Frame(new HookRequest { Point = "request", Body = ByteString.CopyFromUtf8("some body") });

        var (status, _) = await SendAsync(worker, worker.Request(InvokeHook, whole[..^3]));

        Assert.Equal(StatusCode.Internal, status);
    }

    [Fact]
    public async Task NonGrpcRequest_IsAnsweredWithHttp415()
    {
        await using var worker = await DirectWorker.StartAsync("normal");
        var request = worker.Request(InvokeHook, Frame(new HookRequest { Point = "request" }));
        request.Content!.Headers.ContentType = new("application/json");

        using var response = await worker.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task HookHandlerException_ReachesTheCaller_AsUnknownWithItsTypeAndMessage()
    {
        await using var worker = await DirectWorker.StartAsync("error-in-hook");

        var (status, message) = await SendAsync(worker, worker.Request(InvokeHook, Frame(new HookRequest { Point = "request" })));

        Assert.Equal(StatusCode.Unknown, status);
        Assert.Equal("hook 'request' failed: InvalidOperationException: error-in-hook mode", message);
    }

    [Fact]
    public async Task UnaryCall_AnswersWithOneMessageAndStatusOk()
    {
        await using var worker = await DirectWorker.StartAsync("normal");

        using var response = await worker.Http.SendAsync(worker.Request(InvokeHook, Frame(new HookRequest { Point = "request", Body = ByteString.CopyFromUtf8("in") })));
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
        Assert.Equal(bytes.Length - 5, (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1)));
        Assert.Equal("in|direct", HookResponse.Parser.ParseFrom(bytes.AsSpan(5)).Modify.Body.ToStringUtf8());
    }

    [Fact]
    public async Task Health_IsServingForTheServerAndThePluginService_AndNotFoundForOthers()
    {
        await using var worker = await DirectWorker.StartAsync("normal");
        using var channel = UnixSocketChannel.Create(worker.SocketPath);
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        var token = new Metadata { { HandshakeEnvironment.TokenMetadataKey, worker.Token } };
        using var timeout = new CancellationTokenSource(s_bound);

        var server = await health.CheckAsync(new() { Service = string.Empty }, token, cancellationToken: timeout.Token);
        var plugin = await health.CheckAsync(new() { Service = "plugin.v1.Plugin" }, token, cancellationToken: timeout.Token);
        var other = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new() { Service = "other.v1.Thing" }, token, cancellationToken: timeout.Token).ResponseAsync);
        using var watch = health.Watch(new() { Service = string.Empty }, token, cancellationToken: timeout.Token);
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));

        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, server.Status);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, plugin.Status);
        Assert.Equal(StatusCode.NotFound, other.StatusCode);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, watch.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task CallTheClientResetsMidRequest_IsNoFailureOfTheWorker_AndTheNextCallIsServed()
    {
        await using var worker = await DirectWorker.StartAsync("normal");
        var frame = Frame(new HookRequest { Point = "request", Body = ByteString.CopyFromUtf8("never finished") });
        for (var i = 0; i < 20; i++)
        {
            using var reset = new CancellationTokenSource();
            var request = worker.Request(InvokeHook, []);
            request.Content = new HalfSentContent(frame[..7], reset);
            request.Content.Headers.ContentType = new("application/grpc");
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => worker.Http.SendAsync(request, reset.Token));
        }

        var (status, _) = await SendAsync(worker, worker.Request(InvokeHook, Frame(new HookRequest { Point = "request" })));

        Assert.Equal(StatusCode.OK, status);
        Assert.DoesNotContain(worker.Stderr, line => line.Contains("fail:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sigterm_StopsTheWorker_WithExitCodeZero()
    {
        await using var worker = await DirectWorker.StartAsync("normal");

        Assert.Equal(0, Kill(worker.Pid, 15));

        Assert.Equal(0, await worker.WaitForExitAsync(s_bound));
    }

    private static async Task<(StatusCode Status, string Message)> SendAsync(DirectWorker worker, HttpRequestMessage request)
    {
        using var timeout = new CancellationTokenSource(s_bound);
        using var response = await worker.Http.SendAsync(request, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsByteArrayAsync(timeout.Token);
        var trailers = response.TrailingHeaders;
        var status = (StatusCode)int.Parse(trailers.GetValues("grpc-status").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var message = trailers.TryGetValues("grpc-message", out var values) ? Uri.UnescapeDataString(values.Single()) : string.Empty;
        return (status, message);
    }

    private static byte[] Frame(IMessage message)
    {
        var payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>Sends part of a request body, then cancels the request: the client resets the stream mid-message.</summary>
    private sealed class HalfSentContent(byte[] part, CancellationTokenSource reset) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(part);
            await stream.FlushAsync();
            await Task.Delay(50);
            await reset.CancelAsync();
            await Task.Delay(Timeout.Infinite, reset.Token);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
