using GrpcPlugins.Host.Calls;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace GrpcPlugins.Host.Routes;

/// <summary>Writes a route failure as RFC 9457 problem details, saying which failure it is.</summary>
internal static class RouteProblem
{
    /// <summary>The header that names the failure, for clients that do not read bodies.</summary>
    public const string ErrorHeader = "X-Plugin-Error";

    public static Task WriteAsync(HttpContext context, int status, string error, string title, string detail, TimeSpan? retryAfter = null)
    {
        context.Response.StatusCode = status;
        context.Response.Headers[ErrorHeader] = error;
        if (retryAfter is { } delay)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return context.Response.WriteAsJsonAsync(
            new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{status}" },
            options: null,
            contentType: "application/problem+json",
            cancellationToken: context.RequestAborted);
    }

    /// <summary>
    /// A request whose tenant (as the host resolved it) is no tenant id. A tenant comes from the
    /// client, usually: refused before any plugin reads settings by it.
    /// </summary>
    public static Task WriteBadTenantAsync(HttpContext context, string problem) =>
        WriteAsync(context, 400, "tenant", "The request's tenant is not valid", problem);

    public static Task WriteAsync(HttpContext context, CallFailure failure) => failure.Kind switch
    {
        CallFailureKind.Unavailable => WriteAsync(context, 503, "unavailable", $"Plugin '{failure.PluginId}' is unavailable", failure.Detail, TimeSpan.FromSeconds(1)),
        CallFailureKind.CircuitOpen => WriteAsync(context, 503, "circuit-open", $"Plugin '{failure.PluginId}' is paused after repeated timeouts", failure.Detail, failure.RetryAfter ?? TimeSpan.FromSeconds(1)),
        CallFailureKind.Busy => WriteAsync(context, 503, "busy", $"Plugin '{failure.PluginId}' is busy", failure.Detail, TimeSpan.FromSeconds(1)),
        CallFailureKind.TimedOut => WriteAsync(context, 504, "timeout", $"Plugin '{failure.PluginId}' timed out", failure.Detail),
        CallFailureKind.Crashed => WriteAsync(context, 502, "crashed", $"Plugin '{failure.PluginId}' crashed during the call", failure.Detail),
        _ => WriteAsync(context, 502, "error", $"Plugin '{failure.PluginId}' failed", failure.Detail),
    };
}
