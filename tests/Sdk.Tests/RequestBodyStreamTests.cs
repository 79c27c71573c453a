using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Sdk.Http;

namespace GrpcPlugins.Sdk.Tests;

/// <summary>
/// How a handler reads a HandleHttp body from its frames. The real path, through
/// the host, is covered by the functional RouteTests.
/// </summary>
public sealed class RequestBodyStreamTests
{
    [Fact]
    public async Task EndFrame_EndsTheBody_EvenWhileTheHostKeepsItsSideOpen()
    {
        // A host in another language may send `end` and half-close later: the handler must
        // see the end at the frame, not wait for the stream to close.
        var frames = new Frames(
            new HttpRequestFrame { BodyChunk = ByteString.CopyFromUtf8("abc") },
            new HttpRequestFrame { BodyChunk = ByteString.Empty },
            new HttpRequestFrame { BodyChunk = ByteString.CopyFromUtf8("de") },
            new HttpRequestFrame { End = new HttpEnd() });
        await using var body = new RequestBodyStream(frames, CancellationToken.None);
        using var read = new MemoryStream();

        await body.CopyToAsync(read).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("abcde", System.Text.Encoding.UTF8.GetString(read.ToArray()));
        Assert.Equal(0, await body.ReadAsync(new byte[8]));
    }

    [Fact]
    public async Task HeadFrameInsideABody_IsAnError()
    {
        var frames = new Frames(new HttpRequestFrame { Head = new HttpRequestHead() });
        await using var body = new RequestBodyStream(frames, CancellationToken.None);

        await Assert.ThrowsAsync<InvalidDataException>(async () => await body.ReadAtLeastAsync(new byte[8], 1));
    }

    /// <summary>The given frames, then a stream the host never closes.</summary>
    private sealed class Frames(params HttpRequestFrame[] frames) : IAsyncStreamReader<HttpRequestFrame>
    {
        private int _next = -1;

        public HttpRequestFrame Current => frames[_next];

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (_next + 1 < frames.Length)
            {
                _next++;
                return true;
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
            return false;
        }
    }
}
