using GrpcPlugins.Host.Admin;
using GrpcPlugins.Host.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GrpcPlugins.Host.Audit;

/// <summary>GET /admin/api/audit: the admin actions this host answered, newest first, behind the admin policy.</summary>
internal static class AuditApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/admin/api").RequireAuthorization(PluginHostPolicies.Admin);

        api.MapGet("/audit", async (string? plugin, string? action, string? actor, string? before, string? limit, AuditTrail trail, CancellationToken ct) =>
        {
            if (!WholeNumber.TryRead(limit, out var pageSize) || pageSize is < 1 or > MaxLimit)
            {
                return Results.Problem(title: "Bad limit", detail: $"'limit' is '{limit}'; ask for 1 to {MaxLimit} entries a page (default {DefaultLimit}), and follow 'next' for more.", statusCode: 400);
            }

            if (!WholeNumber.TryRead(before, out var olderThan) || olderThan is < 1)
            {
                return Results.Problem(title: "Bad 'before'", detail: $"'before' is '{before}'; it takes the 'next' of the previous page (an entry's id, 1 or more), or leave it out for the newest entries.", statusCode: 400);
            }

            var take = (int)(pageSize ?? DefaultLimit);
            var entries = await trail.ReadAsync(new AuditQuery(Blank(plugin), Blank(action), olderThan, take, Blank(actor)), ct).ConfigureAwait(false);
            return Results.Ok(new
            {
                entries = entries.Select(e => new { e.Id, e.At, e.Actor, e.Remote, e.Action, pluginId = e.PluginId, tenant = e.Tenant, e.Status, e.Detail, e.Replica }),
                // A full page may have older entries behind it; the last page's 'next' is null.
                next = entries.Count == take ? entries[^1].Id : (long?)null,
            });
        });
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
