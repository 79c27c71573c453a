using System.Buffers;
using System.IO.Pipelines;
using Grpc.Core;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Sdk.Server;

/// <summary>Reads gRPC's length-prefixed messages (1 byte compressed flag, 4 bytes big-endian length) from a request body.</summary>
internal sealed class GrpcMessageReader(PipeReader body, int maxMessageSize)
{
    private const int PrefixLength = GrpcFrame.PrefixLength;
    private readonly PayloadContext _payload = new();

    /// <summary>The next message, or null once the client has closed its side.</summary>
    public async ValueTask<T?> ReadAsync<T>(Func<DeserializationContext, T> deserialize, CancellationToken cancellationToken)
        where T : class
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw CallerLeft(ex);
            }

            var buffer = result.Buffer;
            if (TryReadFrame(ref buffer, out var payload))
            {
                T message;
                try
                {
                    _payload.Set(payload);
                    message = deserialize(_payload);
                }
                finally
                {
                    _payload.Set(default);
                    Advance(buffer.Start, buffer.Start);
                }

                return message;
            }

            if (result.IsCompleted)
            {
                Advance(buffer.End, buffer.End);
                return buffer.IsEmpty
                    ? null
                    : throw new RpcException(new Status(StatusCode.Internal, $"the request ended inside a message ({buffer.Length} bytes of a frame)"));
            }

            Advance(buffer.Start, buffer.End);
        }
    }

    // Kestrel reports a reset stream or a lost connection with an IOException from a read or
    // from AdvanceTo, sometimes before the call's token fires: the caller left, the handler
    // did not fail.
    private static RpcException CallerLeft(IOException ex) =>
        new(new Status(StatusCode.Cancelled, $"the caller ended the call: {ex.Message}", ex));

    private void Advance(SequencePosition consumed, SequencePosition examined)
    {
        try
        {
            body.AdvanceTo(consumed, examined);
        }
        catch (IOException ex)
        {
            throw CallerLeft(ex);
        }
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (!GrpcFrame.TryReadPrefix(buffer, out var compressed, out var length))
        {
            return false;
        }

        if (compressed)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "compressed messages are not supported by this worker; send them uncompressed (grpc-encoding identity)"));
        }

        if (length > maxMessageSize)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"a request message of {length} bytes is larger than this worker's limit of {maxMessageSize}"));
        }

        if (buffer.Length < PrefixLength + length)
        {
            return false;
        }

        payload = buffer.Slice(PrefixLength, length);
        buffer = buffer.Slice(PrefixLength + length);
        return true;
    }

    /// <summary>One message's bytes, as the generated marshallers ask for them.</summary>
    private sealed class PayloadContext : DeserializationContext
    {
        private ReadOnlySequence<byte> _payload;

        public override int PayloadLength => checked((int)_payload.Length);

        public void Set(ReadOnlySequence<byte> payload) => _payload = payload;

        public override byte[] PayloadAsNewBuffer() => _payload.ToArray();

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => _payload;
    }
}
