using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>One request message, one response message.</summary>
internal sealed class UnaryMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler) : ServerMethod
    where TRequest : class
    where TResponse : class
{
    public override async Task InvokeAsync(GrpcMessageReader reader, GrpcMessageWriter writer, WorkerCallContext context)
    {
        var request = await ReadSingleAsync(reader, method.RequestMarshaller, context.CancellationToken).ConfigureAwait(false);
        var response = await handler(request, context).ConfigureAwait(false);
        // Not flushed: the call's end sends the message and the status in one write.
        writer.Write(method.ResponseMarshaller.ContextualSerializer, response);
    }
}
