using Grpc.Core;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// The worker's RPCs by path ("/package.Service/Method"), filled by the
/// generated BindService methods, so the protos stay the only description of the contract.
/// </summary>
internal sealed class ServerMethodTable : ServiceBinderBase
{
    private readonly Dictionary<string, ServerMethod> _methods = new(StringComparer.Ordinal);

    public bool TryGet(string path, out ServerMethod method) => _methods.TryGetValue(path, out method!);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        Add(method, handler is null ? null : new UnaryMethod<TRequest, TResponse>(method, handler));

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        Add(method, handler is null ? null : new ServerStreamingMethod<TRequest, TResponse>(method, handler));

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        Add(method, handler is null ? null : new ClientStreamingMethod<TRequest, TResponse>(method, handler));

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        Add(method, handler is null ? null : new DuplexStreamingMethod<TRequest, TResponse>(method, handler));

    private void Add(IMethod method, ServerMethod? bound)
    {
        if (bound is not null)
        {
            _methods.Add(method.FullName, bound);
        }
    }
}
