using Grpc.Core;
using GrpcPlugins.Host.Routes;
using GrpcPlugins.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Tests;

/// <summary>
/// The rules of a body a plugin reads from the host (PluginHost.ReadHttpBody):
/// whose it is, how often and how long it can be read, and what ends it. The
/// real path, a worker reading an upload, is covered by the functional RouteTests.
/// </summary>
public sealed class PulledBodyTests
{
    [Fact]
    public async Task Body_IsFoundOnlyByThePluginItWasOfferedTo()
    {
        var bodies = new PulledBodies();
        await using var offer = Offer(bodies, new MemoryStream([1, 2, 3]));

        Assert.Same(offer, bodies.Find(offer.Id, "p"));
        Assert.Null(bodies.Find(offer.Id, "other"));
        Assert.Null(bodies.Find("not-an-offered-id", "p"));
    }

    [Fact]
    public async Task Body_IsCopiedWhole_AndCanBeReadOnce()
    {
        var bodies = new PulledBodies();
        var sent = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        await using var offer = Offer(bodies, new MemoryStream(sent));
        var chunks = new CollectingWriter();

        Assert.Null(offer.Claim());
        await offer.PumpAsync(chunks, CancellationToken.None);

        Assert.Equal(sent, chunks.Bytes);
        Assert.All(chunks.Sizes, size => Assert.InRange(size, 1, 64 * 1024));
        Assert.Equal(StatusCode.FailedPrecondition, offer.Claim()?.StatusCode);
    }

    [Fact]
    public async Task EndedOffer_IsWithdrawn_AndCannotBeClaimed()
    {
        var bodies = new PulledBodies();
        var offer = Offer(bodies, new MemoryStream([1]));

        await offer.DisposeAsync();

        Assert.Equal(0, bodies.Count);
        Assert.Null(bodies.Find(offer.Id, "p"));
        Assert.Equal(StatusCode.NotFound, offer.Claim()?.StatusCode);
    }

    [Fact]
    public async Task EndingTheRouteCall_StopsACopyInProgress_AndWaitsForIt()
    {
        var bodies = new PulledBodies();
        var client = new StallingStream(firstBytes: 10);
        var offer = Offer(bodies, client);
        Assert.Null(offer.Claim());
        var pumping = offer.PumpAsync(new CollectingWriter(), CancellationToken.None);
        await client.Stalled;

        await offer.DisposeAsync();

        // Done by the time the offer is gone: the request's body is never touched after the call.
        Assert.True(pumping.IsCompleted);
        var ended = await Assert.ThrowsAsync<RpcException>(() => pumping);
        Assert.Equal(StatusCode.Cancelled, ended.StatusCode);
    }

    [Fact]
    public async Task BodyOverTheLimit_EndsTheCopyAndTheRouteCall_AndMarksItTooLarge()
    {
        var bodies = new PulledBodies();
        using var call = new CancellationTokenSource();
        var tooLarge = false;
        await using var offer = bodies.Offer("p", new MemoryStream(new byte[5000]), maxBody: 1000, call, () => tooLarge = true);
        Assert.Null(offer.Claim());

        var refused = await Assert.ThrowsAsync<RpcException>(() => offer.PumpAsync(new CollectingWriter(), CancellationToken.None));

        Assert.Equal(StatusCode.OutOfRange, refused.StatusCode);
        Assert.Contains("1000 bytes", refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(tooLarge);
        Assert.True(call.IsCancellationRequested);
    }

    [Fact]
    public async Task ClientThatFailsMidBody_EndsTheRouteCall_AndThePluginIsToldWhy()
    {
        var bodies = new PulledBodies();
        using var call = new CancellationTokenSource();
        await using var offer = bodies.Offer("p", new FailingStream(), maxBody: 1_000_000, call, () => { });
        Assert.Null(offer.Claim());

        var ended = await Assert.ThrowsAsync<RpcException>(() => offer.PumpAsync(new CollectingWriter(), CancellationToken.None));

        Assert.Equal(StatusCode.Cancelled, ended.StatusCode);
        Assert.Contains("client ended the request", ended.Status.Detail, StringComparison.Ordinal);
        Assert.True(call.IsCancellationRequested);
    }

    private static PulledBody Offer(PulledBodies bodies, Stream body) =>
        bodies.Offer("p", body, maxBody: long.MaxValue, new CancellationTokenSource(), () => { });

    private sealed class CollectingWriter : IServerStreamWriter<HttpBodyChunk>
    {
        private readonly MemoryStream _bytes = new();

        public List<int> Sizes { get; } = [];

        public byte[] Bytes => _bytes.ToArray();

        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(HttpBodyChunk message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(HttpBodyChunk message, CancellationToken cancellationToken)
        {
            // The chunk may borrow the sender's buffer: it is only valid during the write, as on the wire.
            Sizes.Add(message.Data.Length);
            _bytes.Write(message.Data.Span);
            return Task.CompletedTask;
        }
    }

    /// <summary>A client that sends a few bytes and then nothing, until the read is cancelled.</summary>
    private sealed class StallingStream(int firstBytes) : MemoryStream
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _sent;

        public Task Stalled => _stalled.Task;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_sent)
            {
                _sent = true;
                return firstBytes;
            }

            _stalled.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }

    private sealed class FailingStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(new BadHttpRequestException("Unexpected end of request content."));
    }
}
