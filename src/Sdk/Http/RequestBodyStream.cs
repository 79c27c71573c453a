using Grpc.Core;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Sdk.Http;

/// <summary>A read-only stream over the body chunks of a HandleHttp call, pulled frame by frame.</summary>
internal sealed class RequestBodyStream(IAsyncStreamReader<HttpRequestFrame> frames, CancellationToken aborted) : ChunkedBodyStream
{
    protected override async ValueTask<ReadOnlyMemory<byte>?> NextChunkAsync(CancellationToken cancellationToken)
    {
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
            return null;
        }

        var frame = frames.Current;
        // Typed: a bare null would become an empty chunk (arrays convert to memory), not the end.
        return frame.FrameCase switch
        {
            HttpRequestFrame.FrameOneofCase.BodyChunk => frame.BodyChunk.Memory,
            HttpRequestFrame.FrameOneofCase.End => (ReadOnlyMemory<byte>?)null,
            _ => throw new InvalidDataException($"unexpected {frame.FrameCase} frame inside a request body"),
        };
    }
}
