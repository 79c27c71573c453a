using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>One request message, a stream of response messages.</summary>
internal sealed class ServerStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler) : ServerMethod
    where TRequest : class
    where TResponse : class
{
    public override async Task InvokeAsync(GrpcMessageReader reader, GrpcMessageWriter writer, WorkerCallContext context)
    {
        var request = await ReadSingleAsync(reader, method.RequestMarshaller, context.CancellationToken).ConfigureAwait(false);
        await handler(request, new ResponseStreamWriter<TResponse>(writer, method.ResponseMarshaller.ContextualSerializer, context), context).ConfigureAwait(false);
    }
}
