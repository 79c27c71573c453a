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
