using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>Request and response messages streamed both ways at once.</summary>
internal sealed class DuplexStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler) : ServerMethod
    where TRequest : class
    where TResponse : class
{
    public override Task InvokeAsync(GrpcMessageReader reader, GrpcMessageWriter writer, WorkerCallContext context) =>
        handler(
            new RequestStreamReader<TRequest>(reader, method.RequestMarshaller.ContextualDeserializer, context.CancellationToken),
            new ResponseStreamWriter<TResponse>(writer, method.ResponseMarshaller.ContextualSerializer, context),
            context);
}
