using Grpc.Core;
using GrpcPlugins.Protocol;
using GrpcPlugins.Supervisor.Connection;

namespace GrpcPlugins.Supervisor.Tests;

/// <summary>
/// Which metadata a call to a spawned worker carries (pure logic: the invoker underneath
/// only records its options). The functional tests prove the same path against real
/// workers, which refuse every call without the token.
/// </summary>
public sealed class TokenCallInvokerTests
{
    private static readonly Method<string, string> Echo = new(MethodType.Unary, "test.v1.Echo", "Say", Marshallers.StringMarshaller, Marshallers.StringMarshaller);

    [Fact]
    public void CallsWithoutHeaders_CarryTheToken_AndShareOneMetadata()
    {
        var recorder = new RecordingInvoker();
        var invoker = new TokenCallInvoker(recorder, "secret");

        invoker.BlockingUnaryCall(Echo, null, default, "a");
        invoker.BlockingUnaryCall(Echo, null, new CallOptions(headers: new Metadata()), "b");

        var (first, second) = (recorder.Headers[0]!, recorder.Headers[1]!);
        Assert.Equal("secret", Assert.Single(first).Value);
        Assert.Equal(HandshakeEnvironment.TokenMetadataKey, first[0].Key);
        Assert.Same(first, second);
    }

    [Fact]
    public void ACallWithHeadersOfItsOwn_KeepsThemBesideTheToken_AndTheCallersMetadataIsNotChanged()
    {
        var recorder = new RecordingInvoker();
        var invoker = new TokenCallInvoker(recorder, "secret");
        var own = new Metadata { { "x-trace", "t1" } };

        invoker.BlockingUnaryCall(Echo, null, new CallOptions(headers: own), "a");

        var sent = recorder.Headers[0]!;
        Assert.Equal(["x-trace=t1", $"{HandshakeEnvironment.TokenMetadataKey}=secret"], sent.Select(e => $"{e.Key}={e.Value}"));
        Assert.Equal("x-trace", Assert.Single(own).Key);
    }

    private sealed class RecordingInvoker : CallInvoker
    {
        public List<Metadata?> Headers { get; } = [];

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            Headers.Add(options.Headers);
            return default!;
        }

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
    }
}
