using System.Data.Common;
using GrpcPlugins.Host.Calls;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// Answers an admin request whose store call failed (the SQLite file, the PostgreSQL server)
/// with 503 and what failed, where it would have been an empty 500: the admin learns that the
/// store is at fault, not the request, and that the same request may be sent again once it answers.
/// </summary>
internal sealed partial class StoreFailureFilter(PluginMetrics metrics, ILogger<StoreFailureFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        try
        {
            return await next(invocation).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            var context = invocation.HttpContext;
            metrics.StoreFailures.Add(1, new KeyValuePair<string, object?>("caller", "admin"));
            Log.StoreFailed(logger, ex, context.Request.Method, context.Request.Path);
            context.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The host's store failed",
                detail: $"{ex.GetType().Name}: {ex.Message}. Send the request again once the store answers: GET /healthz shows it ('shared-store' for PostgreSQL, 'state-disk' for the SQLite file's disk).");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1062, EventName = "AdminStoreFailed", Level = LogLevel.Error, Message = "Admin request {Method} {Path} answered 503: the host's store failed")]
        public static partial void StoreFailed(ILogger logger, Exception exception, string method, string path);
    }
}
