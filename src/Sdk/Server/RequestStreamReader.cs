using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>The messages of a client-streaming or bidirectional call, read as the handler asks for them.</summary>
internal sealed class RequestStreamReader<T>(GrpcMessageReader reader, Func<DeserializationContext, T> deserialize, CancellationToken callToken) : IAsyncStreamReader<T>
    where T : class
{
    private T? _current;

    public T Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        // The call's own token (client gone, deadline) ends a read as well as the handler's.
        using var linked = cancellationToken.CanBeCanceled && cancellationToken != callToken ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callToken) : null;
        _current = await reader.ReadAsync(deserialize, linked?.Token ?? callToken).ConfigureAwait(false);
        return _current is not null;
    }
}
