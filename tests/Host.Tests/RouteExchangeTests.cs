using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Routes;
using GrpcPlugins.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Tests;

/// <summary>
/// How the forwarder relays a plugin's answer when every frame is already there
/// (the worst case for buffering). The real path, with a worker, is covered by
/// the functional LargeRouteBodyTests.
/// </summary>
public sealed class RouteExchangeTests
{
    [Fact]
    public async Task SmallAnswerThatArrivedWhole_IsSentWithItsContentLength()
    {
        var (context, body) = Context();

        await RelayAsync(context, Answer(chunks: 3, chunkBytes: 1024));

        Assert.Equal(3 * 1024, context.Response.ContentLength);
        Assert.Equal(3 * 1024, body.Length);
    }

    [Fact]
    public async Task LargeAnswerThatArrivedWhole_IsFlushedAsItComes_NotHeldForALength()
    {
        var (context, body) = Context();

        await RelayAsync(context, Answer(chunks: 200, chunkBytes: 64 * 1024));

        Assert.Null(context.Response.ContentLength);
        Assert.Equal(200L * 64 * 1024, body.Length);
        // Each flush carries a bounded amount, so a plugin faster than its client
        // meets the client's pace at every flush instead of filling the host's memory.
        Assert.True(body.LargestWrite <= 2 * 64 * 1024, $"one write of {body.LargestWrite} bytes");
        Assert.True(body.Writes >= 100, $"{body.Writes} writes");
    }

    private static async Task RelayAsync(HttpContext context, List<HttpResponseFrame> frames)
    {
        using var deadline = new CallDeadline(TimeSpan.FromSeconds(30), TimeProvider.System, CancellationToken.None);
        var started = await RouteExchange.RelayResponseAsync(context, new ArrivedReader(frames), deadline, TimeSpan.FromSeconds(30), () => { }, CancellationToken.None);
        await context.Response.BodyWriter.FlushAsync();
        Assert.True(started);
    }

    private static (HttpContext Context, CountingStream Body) Context()
    {
        var body = new CountingStream();
        var context = new DefaultHttpContext();
        context.Response.Body = body;
        return (context, body);
    }

    private static List<HttpResponseFrame> Answer(int chunks, int chunkBytes)
    {
        var frames = new List<HttpResponseFrame> { new() { Head = new HttpResponseHead { StatusCode = 200 } } };
        for (var i = 0; i < chunks; i++)
        {
            frames.Add(new HttpResponseFrame { BodyChunk = ByteString.CopyFrom(new byte[chunkBytes]) });
        }

        return frames;
    }

    /// <summary>Every frame is already received: each MoveNext completes at once.</summary>
    private sealed class ArrivedReader(List<HttpResponseFrame> frames) : IAsyncStreamReader<HttpResponseFrame>
    {
        private int _index = -1;

        public HttpResponseFrame Current => frames[_index];

        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(++_index < frames.Count);
    }

    private sealed class CountingStream : Stream
    {
        public long LargestWrite { get; private set; }

        public int Writes { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Position;

        public override long Position { get; set; }

        public override void Write(byte[] buffer, int offset, int count) => Count(count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Count(buffer.Length);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Count(count);
            return Task.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private void Count(int bytes)
        {
            Writes++;
            Position += bytes;
            LargestWrite = Math.Max(LargestWrite, bytes);
        }
    }
}
