using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GrpcPlugins.Host.Hooks.Endpoints;

/// <summary>
/// Holds an endpoint's response body so the outbound hook point sees it whole
/// before anything is sent. A response that outgrows the limit (a long one, or a
/// stream when the limit is 0) is handed to <c>onStreaming</c> once, with
/// nothing sent yet; it says whether the endpoint's bytes go on to the client
/// (held ones first) or are dropped because it answered instead.
/// </summary>
internal sealed class ResponseCapture(IHttpResponseBodyFeature inner, long limit, Func<CancellationToken, Task<bool>> onStreaming) : Stream, IHttpResponseBodyFeature
{
    private MemoryStream _held = new();
    private PipeWriter? _writer;
    private Mode _mode;

    private enum Mode
    {
        Holding,
        PassingThrough,
        Discarding,
    }

    /// <summary>True once the response went on as a stream (or was answered instead) rather than being held whole.</summary>
    public bool Streamed => _mode != Mode.Holding;

    /// <summary>The body held so far.</summary>
    public ReadOnlyMemory<byte> Held => _held.GetBuffer().AsMemory(0, (int)_held.Length);

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Takes in what the endpoint wrote through the pipe writer but did not flush (the server would flush it at the end).</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    void IHttpResponseBodyFeature.DisableBuffering()
    {
        if (_mode == Mode.PassingThrough)
        {
            inner.DisableBuffering();
        }
    }

    // Not a sign of streaming: HttpResponse.WriteAsync(string) starts every response it writes.
    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) =>
        _mode == Mode.PassingThrough ? inner.StartAsync(cancellationToken) : Task.CompletedTask;

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.CompleteAsync() => FinishAsync(CancellationToken.None);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_mode == Mode.Holding && _held.Length + buffer.Length > limit)
        {
            await StreamAsync(cancellationToken).ConfigureAwait(false);
        }

        switch (_mode)
        {
            case Mode.Holding:
                _held.Write(buffer.Span);
                break;
            case Mode.PassingThrough:
                await inner.Stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (_mode == Mode.Holding && _held.Length + count <= limit)
        {
            _held.Write(buffer, offset, count);
            return;
        }

        // Only an endpoint that turned synchronous writes on gets here; it chose to block.
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _mode == Mode.PassingThrough ? inner.Stream.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private async Task StreamAsync(CancellationToken cancellationToken)
    {
        if (_mode != Mode.Holding)
        {
            return;
        }

        var passThrough = await onStreaming(cancellationToken).ConfigureAwait(false);
        _mode = passThrough ? Mode.PassingThrough : Mode.Discarding;
        if (passThrough && _held.Length > 0)
        {
            await inner.Stream.WriteAsync(Held, cancellationToken).ConfigureAwait(false);
        }

        _held = new MemoryStream();
    }
}
