using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Sdk.Services;

/// <summary>Refuses every call that does not carry the host's per-spawn token (UNAUTHENTICATED).</summary>
internal sealed class TokenInterceptor(WorkerEnvironment environment) : Interceptor
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes(environment.Token);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    private void Check(ServerCallContext context)
    {
        var presented = context.RequestHeaders.GetValue(HandshakeEnvironment.TokenMetadataKey);
        if (presented is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _expected))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"missing or wrong '{HandshakeEnvironment.TokenMetadataKey}': only the host that spawned this worker may call it"));
        }
    }
}
