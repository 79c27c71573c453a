using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// The worker's RPCs by path ("/package.Service/Method"), each bound with the
/// method descriptor generated from the protos (see Services/Binding).
/// </summary>
internal sealed class ServerMethodTable
{
    private readonly Dictionary<string, ServerMethod> _methods = new(StringComparer.Ordinal);

    public bool TryGet(string path, out ServerMethod method) => _methods.TryGetValue(path, out method!);

    public void AddUnary<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler)
        where TRequest : class
        where TResponse : class =>
        _methods.Add(method.FullName, new UnaryMethod<TRequest, TResponse>(method, handler));

    public void AddServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler)
        where TRequest : class
        where TResponse : class =>
        _methods.Add(method.FullName, new ServerStreamingMethod<TRequest, TResponse>(method, handler));

    public void AddDuplexStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler)
        where TRequest : class
        where TResponse : class =>
        _methods.Add(method.FullName, new DuplexStreamingMethod<TRequest, TResponse>(method, handler));
}
