using Google.Protobuf;
using Grpc.Core;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Sdk.Services;

/// <summary>
/// Sends a route's response frames. While the handler runs without waiting on
/// anything, its frames are held, so a handler that answers at once sends head,
/// body and the call's end in one flush (and the host can give the client a
/// Content-Length). From the handler's first real wait on, every frame goes out
/// as it is written, so server-sent events still flow event by event.
/// </summary>
internal sealed class RouteFrameWriter(IServerStreamWriter<HttpResponseFrame> stream, Func<CancellationToken, Task> flush) : IDisposable
{
    /// <summary>Past this much held, frames go out anyway: a handler writing a large body at once must not buffer it whole.</summary>
    private const int MaxHeldBytes = 64 * 1024;

    private const int MaxChunkBytes = 64 * 1024;

    private static readonly WriteOptions s_held = new(WriteFlags.BufferHint);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _writeThrough;
    private bool _pending;
    private long _heldBytes;

    /// <summary>Writes a frame; <paramref name="partOfNext"/> holds it for the frame after it (a head before its first chunk).</summary>
    public async Task WriteAsync(HttpResponseFrame frame, bool partOfNext, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _heldBytes += frame.CalculateSize();
            var hold = partOfNext || (!_writeThrough && _heldBytes <= MaxHeldBytes);
            stream.WriteOptions = hold ? s_held : null;
            await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            _pending = hold;
            _heldBytes = hold ? _heldBytes : 0;
        }
        finally
        {
            stream.WriteOptions = null;
            _gate.Release();
        }
    }

    /// <summary>
    /// Writes a piece of the body as frames of at most 64 KiB: a handler may write a
    /// file in one call, but a gRPC message is limited (16 MiB at the host), and
    /// smaller frames let the host pass the start on while the rest is still coming.
    /// </summary>
    public async Task WriteBodyAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < body.Length; offset += MaxChunkBytes)
        {
            var chunk = body.Slice(offset, Math.Min(MaxChunkBytes, body.Length - offset));
            await WriteAsync(new HttpResponseFrame { BodyChunk = UnsafeByteOperations.UnsafeWrap(chunk) }, partOfNext: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The handler waits on something: what it wrote goes out now, and every later write at once.</summary>
    public async Task WriteThroughAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _writeThrough = true;
            if (_pending)
            {
                await flush(cancellationToken).ConfigureAwait(false);
                _pending = false;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
