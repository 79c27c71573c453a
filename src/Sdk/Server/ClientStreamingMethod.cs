using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>A stream of request messages, one response message.</summary>
internal sealed class ClientStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler) : ServerMethod
    where TRequest : class
    where TResponse : class
{
    public override async Task InvokeAsync(GrpcMessageReader reader, GrpcMessageWriter writer, WorkerCallContext context)
    {
        var response = await handler(new RequestStreamReader<TRequest>(reader, method.RequestMarshaller.ContextualDeserializer, context.CancellationToken), context).ConfigureAwait(false);
        writer.Write(method.ResponseMarshaller.ContextualSerializer, response);
    }
}
