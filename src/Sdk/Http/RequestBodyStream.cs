using Grpc.Core;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Sdk.Http;

/// <summary>A read-only stream over the body chunks of a HandleHttp call, pulled frame by frame.</summary>
internal sealed class RequestBodyStream(IAsyncStreamReader<HttpRequestFrame> frames, CancellationToken aborted) : Stream
{
    private ReadOnlyMemory<byte> _current;
    private bool _ended;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty)
        {
            if (_ended)
            {
                return 0;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, aborted);
            bool more;
            try
            {
                more = await frames.MoveNext(linked.Token).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
            {
                // The client went away mid-upload: to a handler that is a cancelled read, as in ASP.NET Core.
                throw new OperationCanceledException("the client ended the request before its body was read", ex);
            }

            if (!more)
            {
                _ended = true;
                return 0;
            }

            var frame = frames.Current;
            switch (frame.FrameCase)
            {
                case HttpRequestFrame.FrameOneofCase.BodyChunk:
                    _current = frame.BodyChunk.Memory;
                    break;
                case HttpRequestFrame.FrameOneofCase.End:
                    _ended = true;
                    break;
                default:
                    throw new InvalidDataException($"unexpected {frame.FrameCase} frame inside a request body");
            }
        }

        var count = Math.Min(buffer.Length, _current.Length);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read the request body asynchronously.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
