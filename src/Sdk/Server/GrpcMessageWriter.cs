using System.Buffers;
using System.IO.Pipelines;
using Grpc.Core;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Sdk.Server;

/// <summary>Writes gRPC's length-prefixed messages into a response body; a flush sends them.</summary>
internal sealed class GrpcMessageWriter(PipeWriter body)
{
    private const int PrefixLength = GrpcFrame.PrefixLength;
    private readonly FrameContext _frame = new(body);

    /// <summary>Writes one message; it goes out with the next flush.</summary>
    public void Write<T>(Action<T, SerializationContext> serialize, T message)
    {
        _frame.Begin();
        serialize(message, _frame);
        _frame.End();
    }

    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => body.FlushAsync(cancellationToken);

    private static void WritePrefix(IBufferWriter<byte> output, int length)
    {
        GrpcFrame.WritePrefix(output.GetSpan(PrefixLength), length);
        output.Advance(PrefixLength);
    }

    /// <summary>
    /// The generated marshallers announce the length first and then write into
    /// the pipe directly; a serializer that does not is buffered once.
    /// </summary>
    private sealed class FrameContext(PipeWriter body) : SerializationContext
    {
        private bool _lengthWritten;
        private bool _completed;
        private ArrayBufferWriter<byte>? _unsized;

        public void Begin()
        {
            _lengthWritten = false;
            _completed = false;
            _unsized?.ResetWrittenCount();
        }

        public void End()
        {
            if (!_completed)
            {
                throw new InvalidOperationException("the message serializer did not complete its message");
            }
        }

        public override void SetPayloadLength(int payloadLength)
        {
            WritePrefix(body, payloadLength);
            _lengthWritten = true;
        }

        public override IBufferWriter<byte> GetBufferWriter() => _lengthWritten ? body : _unsized ??= new ArrayBufferWriter<byte>();

        public override void Complete()
        {
            if (!_lengthWritten)
            {
                var written = _unsized is null ? [] : _unsized.WrittenSpan;
                WritePrefix(body, written.Length);
                body.Write(written);
            }

            _completed = true;
        }

        public override void Complete(byte[] payload)
        {
            WritePrefix(body, payload.Length);
            body.Write(payload);
            _completed = true;
        }
    }
}
