using Grpc.Core;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Sdk.Http;

/// <summary>
/// A request body the host did not send with the route call: read from the host
/// (PluginHost.ReadHttpBody) on the handler's first read, so a handler that
/// never reads it costs nothing.
/// </summary>
internal sealed class PulledBodyStream(Func<CancellationToken, AsyncServerStreamingCall<HttpBodyChunk>> open, CancellationToken aborted) : ChunkedBodyStream
{
    private AsyncServerStreamingCall<HttpBodyChunk>? _call;

    protected override async ValueTask<ReadOnlyMemory<byte>?> NextChunkAsync(CancellationToken cancellationToken)
    {
        _call ??= open(aborted);
        var chunks = _call.ResponseStream;
        bool more;
        try
        {
            more = await chunks.MoveNext(cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && (aborted.IsCancellationRequested || cancellationToken.IsCancellationRequested))
        {
            throw new OperationCanceledException(ex.Status.Detail, ex, aborted.IsCancellationRequested ? aborted : cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
        {
            // The client went away mid-upload: to a handler that is a cancelled read, as in ASP.NET Core.
            throw new OperationCanceledException("the client ended the request before its body was read: " + ex.Status.Detail, ex);
        }
        catch (RpcException ex)
        {
            throw new IOException($"the request body could not be read from the host: {ex.Status.StatusCode}: {ex.Status.Detail}", ex);
        }

        if (!more)
        {
            return null;
        }

        return chunks.Current.Data.Memory;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Ends a read the handler left unfinished; the host stops copying.
            _call?.Dispose();
        }

        base.Dispose(disposing);
    }
}
