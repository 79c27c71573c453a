namespace GrpcPlugins.Sdk.Http;

/// <summary>A read-only request body over chunks that arrive in messages, fetched one at a time as the handler reads.</summary>
internal abstract class ChunkedBodyStream : Stream
{
    private ReadOnlyMemory<byte> _current;
    private bool _ended;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>The next chunk (possibly empty), or null after the last.</summary>
    protected abstract ValueTask<ReadOnlyMemory<byte>?> NextChunkAsync(CancellationToken cancellationToken);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty)
        {
            if (_ended)
            {
                return 0;
            }

            if (await NextChunkAsync(cancellationToken).ConfigureAwait(false) is { } chunk)
            {
                _current = chunk;
            }
            else
            {
                _ended = true;
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
