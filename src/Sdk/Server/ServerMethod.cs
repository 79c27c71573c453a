using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>One bound RPC: reads its request messages, runs its handler, writes its response messages.</summary>
internal abstract class ServerMethod
{
    public abstract Task InvokeAsync(GrpcMessageReader reader, GrpcMessageWriter writer, WorkerCallContext context);

    /// <summary>The one request message of a unary or server-streaming call.</summary>
    protected static async Task<T> ReadSingleAsync<T>(GrpcMessageReader reader, Marshaller<T> marshaller, CancellationToken cancellationToken)
        where T : class
    {
        var message = await reader.ReadAsync(marshaller.ContextualDeserializer, cancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.Internal, "the call carried no request message"));
        return await reader.ReadAsync(marshaller.ContextualDeserializer, cancellationToken).ConfigureAwait(false) is null
            ? message
            : throw new RpcException(new Status(StatusCode.Internal, "the call carried more than one request message"));
    }
}
