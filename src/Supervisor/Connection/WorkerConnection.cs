using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using GrpcPlugins.Protocol;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Supervisor.Connection;

/// <summary>
/// The host's gRPC connection to one worker: every call to a spawned worker carries its
/// per-spawn token, which the worker checks.
/// </summary>
internal sealed class WorkerConnection : IDisposable
{
    private static readonly Uri s_handleHttpBuffered = MethodUri(nameof(Protocol.V1.Plugin.PluginClient.HandleHttpBuffered));
    private static readonly Uri s_invokeHook = MethodUri(nameof(Protocol.V1.Plugin.PluginClient.InvokeHook));
    private readonly GrpcChannel _channel;
    private readonly HttpMessageInvoker? _http;
    private readonly string? _token;

    public WorkerConnection(string socketPath, string token)
        : this(UnixSocketChannel.CreateHandler(socketPath), token)
    {
    }

    private WorkerConnection(SocketsHttpHandler handler, string token)
        : this(UnixSocketChannel.Create(handler), token)
    {
        // The channel owns the handler; this invoker shares its connections.
        _http = new HttpMessageInvoker(handler, disposeHandler: false);
    }

    /// <summary>A connection over <paramref name="channel"/>; without a token for an attached worker, which TLS authenticates.</summary>
    public WorkerConnection(GrpcChannel channel, string? token)
    {
        _channel = channel;
        _token = token;
        var invoker = token is null ? channel.CreateCallInvoker() : new TokenCallInvoker(channel.CreateCallInvoker(), token);
        Plugin = new Protocol.V1.Plugin.PluginClient(invoker);
        Health = new Health.HealthClient(invoker);
    }

    /// <summary>The plugin's contract.</summary>
    public Protocol.V1.Plugin.PluginClient Plugin { get; }

    /// <summary>The worker's standard health service.</summary>
    public Health.HealthClient Health { get; }

    /// <summary>Asks the worker's health service whether it serves; on any other answer or failure, what it was.</summary>
    public async Task<HealthProbe> ProbeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await Health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.Add(timeout), cancellationToken: cancellationToken).ConfigureAwait(false);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving
                ? HealthProbe.Passed
                : HealthProbe.Failed($"the worker's health service answered {reply.Status}");
        }
        catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
        {
            // The host's own end (a start's timeout, a stop), not anything the worker said.
            throw new OperationCanceledException("the health probe was cancelled", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            // A failed probe is an answer, not an error of the host's: the caller counts it and says why.
            return HealthProbe.Failed(ex.Status.Detail.Length == 0 ? ex.StatusCode.ToString() : $"{ex.StatusCode}: {ex.Status.Detail.TrimEnd('.')}");
        }
    }

    /// <summary>
    /// A route's HandleHttpBuffered call: straight over HTTP/2 where this connection's client can
    /// be reached (a spawned worker's socket), else through gRPC's client (an attached worker).
    /// </summary>
    public (IAsyncStreamReader<HttpResponseFrame> Answer, IDisposable Call) HandleHttpBuffered(HttpBufferedRequest request, CancellationToken cancellationToken)
    {
        if (_http is null)
        {
            var call = Plugin.HandleHttpBuffered(request, cancellationToken: cancellationToken);
            return (call.ResponseStream, call);
        }

        var direct = new DirectGrpcCall<HttpResponseFrame>(_http, s_handleHttpBuffered, _token, request, HttpResponseFrame.Parser, cancellationToken);
        return (direct, direct);
    }

    /// <summary>
    /// A hook call (InvokeHook, unary): straight over HTTP/2 where this connection's client can be
    /// reached, as <see cref="HandleHttpBuffered"/> is, else through gRPC's client.
    /// </summary>
    public async Task<HookResponse> InvokeHookAsync(HookRequest request, CancellationToken cancellationToken)
    {
        if (_http is null)
        {
            return await Plugin.InvokeHookAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        using var call = new DirectGrpcCall<HookResponse>(_http, s_invokeHook, _token, request, HookResponse.Parser, cancellationToken);
        var response = await call.MoveNext(cancellationToken).ConfigureAwait(false)
            ? call.Current
            : throw new RpcException(new Status(StatusCode.Internal, "the worker ended its InvokeHook answer with an OK status but no HookResponse"));
        return await call.MoveNext(cancellationToken).ConfigureAwait(false)
            ? throw new RpcException(new Status(StatusCode.Internal, "the worker answered InvokeHook, a unary call, with more than one HookResponse"))
            : response;
    }

    private static Uri MethodUri(string method) => new($"http://localhost/{Protocol.V1.Plugin.Descriptor.FullName}/{method}");

    public void Dispose()
    {
        _http?.Dispose();
        _channel.Dispose();
    }
}
