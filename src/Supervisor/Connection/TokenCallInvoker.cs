using Grpc.Core;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Supervisor.Connection;

/// <summary>
/// Sends a spawned worker's token with every call. The host's calls bring no headers of
/// their own, so they share one metadata holding the token (the client only reads it);
/// a call that brings some gets a copy with the token added. gRPC's metadata interceptor
/// did the same with a new metadata, entry and continuation for every call, on every
/// hook's and route's path.
/// </summary>
internal sealed class TokenCallInvoker(CallInvoker inner, string token) : CallInvoker
{
    private readonly Metadata _token = new() { { HandshakeEnvironment.TokenMetadataKey, token } };

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        inner.BlockingUnaryCall(method, host, WithToken(options), request);

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        inner.AsyncUnaryCall(method, host, WithToken(options), request);

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        inner.AsyncServerStreamingCall(method, host, WithToken(options), request);

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        inner.AsyncClientStreamingCall(method, host, WithToken(options));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        inner.AsyncDuplexStreamingCall(method, host, WithToken(options));

    private CallOptions WithToken(CallOptions options)
    {
        if (options.Headers is not { Count: > 0 } own)
        {
            return options.WithHeaders(_token);
        }

        var headers = new Metadata();
        foreach (var entry in own)
        {
            headers.Add(entry);
        }

        headers.Add(_token[0]);
        return options.WithHeaders(headers);
    }
}
