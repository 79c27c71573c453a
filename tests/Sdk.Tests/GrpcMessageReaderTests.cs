using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Grpc.Core;
using GrpcPlugins.Sdk.Server;

namespace GrpcPlugins.Sdk.Tests;

public sealed class GrpcMessageReaderTests
{
    private static readonly Func<DeserializationContext, string> s_text = context => Encoding.UTF8.GetString(context.PayloadAsReadOnlySequence());

    [Fact]
    public async Task Read_AFrameArrivingByteByByte_GivesTheWholeMessage()
    {
        var pipe = new Pipe();
        var reader = new GrpcMessageReader(pipe.Reader, 1024);
        var reading = reader.ReadAsync(s_text, CancellationToken.None);

        foreach (var b in Frame("hello"))
        {
            Assert.False(reading.IsCompleted);
            await pipe.Writer.WriteAsync(new[] { b });
        }

        Assert.Equal("hello", await reading);
    }

    [Fact]
    public async Task Read_TwoFramesInOneWrite_GivesBothThenNullAtTheEnd()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync((byte[])[.. Frame("one"), .. Frame(string.Empty)]);
        await pipe.Writer.CompleteAsync();
        var reader = new GrpcMessageReader(pipe.Reader, 1024);

        Assert.Equal("one", await reader.ReadAsync(s_text, CancellationToken.None));
        Assert.Equal(string.Empty, await reader.ReadAsync(s_text, CancellationToken.None));
        Assert.Null(await reader.ReadAsync(s_text, CancellationToken.None));
    }

    [Fact]
    public async Task Read_ABodyEndingInsideAFrame_IsInternal()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Frame("truncated").AsMemory(0, 7));
        await pipe.Writer.CompleteAsync();

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new GrpcMessageReader(pipe.Reader, 1024).ReadAsync(s_text, CancellationToken.None));

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task Read_AFrameOverTheLimit_IsResourceExhausted_FromItsPrefixAlone()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Frame(new string('x', 11)).AsMemory(0, 5));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new GrpcMessageReader(pipe.Reader, 10).ReadAsync(s_text, CancellationToken.None));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Read_WhenTheCallerResetsTheStream_IsCancelled_NotAHandlerFailure()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Frame("partial").AsMemory(0, 3));
        await pipe.Writer.CompleteAsync(new IOException("The client reset the request stream."));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new GrpcMessageReader(pipe.Reader, 1024).ReadAsync(s_text, CancellationToken.None));

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Contains("reset", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_WhenTheStreamIsResetAsTheFrameIsConsumed_IsCancelled_NotAHandlerFailure()
    {
        // Kestrel's request pipe throws from AdvanceTo once the client reset the stream
        // (CI caught a health probe cut this way logged as the plugin's error).
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Frame("whole"));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new GrpcMessageReader(new ResetOnAdvance(pipe.Reader), 1024).ReadAsync(s_text, CancellationToken.None));

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Contains("reset", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrittenMessage_ReadsBackThroughTheSameFraming()
    {
        var pipe = new Pipe();
        var writer = new GrpcMessageWriter(pipe.Writer);
        writer.Write<string>((text, context) => context.Complete(Encoding.UTF8.GetBytes(text)), "first");
        writer.Write<string>(
            (text, context) =>
            {
                var output = context.GetBufferWriter();
                output.Write(Encoding.UTF8.GetBytes(text));
                context.Complete();
            },
            "second, unsized");
        await writer.FlushAsync(CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        var reader = new GrpcMessageReader(pipe.Reader, 1024);

        Assert.Equal("first", await reader.ReadAsync(s_text, CancellationToken.None));
        Assert.Equal("second, unsized", await reader.ReadAsync(s_text, CancellationToken.None));
        Assert.Null(await reader.ReadAsync(s_text, CancellationToken.None));
    }

    /// <summary>A reader whose stream was reset between a read and its AdvanceTo.</summary>
    private sealed class ResetOnAdvance(PipeReader inner) : PipeReader
    {
        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) =>
            throw new IOException("The client reset the request stream.");

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => inner.ReadAsync(cancellationToken);

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);
    }

    private static byte[] Frame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }
}
