using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Host.Audit;

/// <summary>
/// Records an admin endpoint's action in the <see cref="AuditTrail"/> once it is answered,
/// whatever the answer (refusals are what an auditor looks for), before the caller sees it:
/// an acknowledged action is in the trail.
/// </summary>
internal sealed class AdminAuditFilter(string action) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var note = new AuditNote();
        context.Features.Set(note);
        object? result;
        try
        {
            result = await next(invocation).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // What the caller will be answered: a bad request's own status (a body over its limit), 499 for one who left.
            var status = ex switch
            {
                BadHttpRequestException bad => bad.StatusCode,
                OperationCanceledException when context.RequestAborted.IsCancellationRequested => 499,
                DbException => StatusCodes.Status503ServiceUnavailable, // Admin.StoreFailureFilter's answer
                _ => 500,
            };
            await RecordAsync(context, action, note, status, $"{ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            throw;
        }

        var (answered, detail) = Outcome(result);
        await RecordAsync(context, action, note, answered, detail ?? note.Detail ?? string.Empty).ConfigureAwait(false);
        return result;
    }

    /// <summary>The status an endpoint's result will answer with, and a refusal's problem detail.</summary>
    internal static (int Status, string? Detail) Outcome(object? result) => result switch
    {
        ProblemHttpResult problem => (problem.StatusCode, ProblemText(problem.ProblemDetails)),
        RedirectHttpResult => (StatusCodes.Status302Found, null),
        IStatusCodeHttpResult { StatusCode: { } status } => (status, null),
        _ => (StatusCodes.Status200OK, null),
    };

    private static string ProblemText(ProblemDetails problem)
    {
        var text = string.IsNullOrEmpty(problem.Detail) ? problem.Title ?? string.Empty : $"{problem.Title}: {problem.Detail}";
        // The field errors say what was wrong; the detail only says to fix them.
        return problem.Extensions.TryGetValue("errors", out var errors) && errors is not null
            ? $"{text} Errors: {JsonSerializer.Serialize(errors)}"
            : text;
    }

    /// <summary>
    /// Records <paramref name="action"/>'s answer for the request: who (the note's, else the caller's
    /// holder), from where, on which plugin (the note's, else the route's id) and tenant. Also for
    /// an answer no endpoint gave (a read-only key's change, refused by its scheme).
    /// </summary>
    internal static Task RecordAsync(HttpContext context, string action, AuditNote note, int status, string detail) =>
        context.RequestServices.GetRequiredService<AuditTrail>().RecordAsync(
            note.Actor ?? AdminActor.Of(context.User),
            context.Connection.RemoteIpAddress?.ToString() ?? string.Empty,
            action,
            note.PluginId ?? context.Request.RouteValues["id"] as string ?? string.Empty,
            context.Request.Query["tenant"].ToString(),
            status,
            detail);
}
