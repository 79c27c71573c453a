using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// The messages of a server-streaming or bidirectional call. A write with
/// <see cref="WriteFlags.BufferHint"/> stays in the pipe until the next write
/// without it (or the call's end), so several frames leave in one HTTP/2 write.
/// </summary>
internal sealed class ResponseStreamWriter<T>(GrpcMessageWriter writer, Action<T, SerializationContext> serialize, WorkerCallContext context) : IServerStreamWriter<T>
{
    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

    public async Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        var callToken = context.CancellationToken;
        callToken.ThrowIfCancellationRequested();
        writer.Write(serialize, message);
        var options = WriteOptions ?? context.WriteOptions;
        if (options is null || (options.Flags & WriteFlags.BufferHint) == 0)
        {
            using var linked = cancellationToken.CanBeCanceled && cancellationToken != callToken ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callToken) : null;
            await writer.FlushAsync(linked?.Token ?? callToken).ConfigureAwait(false);
        }
    }
}
