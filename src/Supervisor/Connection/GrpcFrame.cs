// Shared by the host and the Sdk (linked into both): gRPC's framing of a message on the wire.
using System.Buffers;
using System.Buffers.Binary;

namespace GrpcPlugins.Protocol;

/// <summary>gRPC's length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length, then the message.</summary>
internal static class GrpcFrame
{
    public const int PrefixLength = 5;

    /// <summary>The prefix at the start of <paramref name="buffer"/>, once its five bytes have arrived.</summary>
    public static bool TryReadPrefix(in ReadOnlySequence<byte> buffer, out bool compressed, out uint length)
    {
        Span<byte> prefix = stackalloc byte[PrefixLength];
        if (buffer.Length < PrefixLength)
        {
            (compressed, length) = (false, 0);
            return false;
        }

        buffer.Slice(0, PrefixLength).CopyTo(prefix);
        return TryReadPrefix(prefix, out compressed, out length);
    }

    /// <summary>The prefix at the start of <paramref name="buffer"/>, once its five bytes have arrived.</summary>
    public static bool TryReadPrefix(ReadOnlySpan<byte> buffer, out bool compressed, out uint length)
    {
        (compressed, length) = buffer.Length < PrefixLength ? (false, 0u) : (buffer[0] != 0, BinaryPrimitives.ReadUInt32BigEndian(buffer[1..PrefixLength]));
        return buffer.Length >= PrefixLength;
    }

    /// <summary>Writes an uncompressed message's prefix into <paramref name="prefix"/>.</summary>
    public static void WritePrefix(Span<byte> prefix, int length)
    {
        prefix[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], checked((uint)length));
    }
}
