using System.Data.Common;
using Grpc.Core;
using Grpc.Core.Interceptors;
using GrpcPlugins.Host.Calls;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// Answers a plugin's call whose store access failed (the SQLite file, the PostgreSQL server)
/// with UNAVAILABLE, gRPC's code for "try again", and the store's error, where gRPC would
/// answer UNKNOWN "Exception was thrown by handler": the plugin's author learns that the host's
/// store failed, not the call, and may retry.
/// </summary>
internal sealed partial class StoreFailureInterceptor(PluginMetrics metrics, ILoggerFactory loggerFactory) : Interceptor
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<StoreFailureInterceptor>();

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            metrics.StoreFailures.Add(1, new KeyValuePair<string, object?>("caller", "plugin"));
            Log.StoreFailed(_logger, ex, context.Method, context.Peer);
            throw new RpcException(new Status(StatusCode.Unavailable, $"the host's store failed ({ex.GetType().Name}: {ex.Message}); the call did not complete: try it again later", ex));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1063, EventName = "PluginCallStoreFailed", Level = LogLevel.Error, Message = "A plugin's call {Method} (from {Peer}) answered UNAVAILABLE: the host's store failed")]
        public static partial void StoreFailed(ILogger logger, Exception exception, string method, string peer);
    }
}
