using System.Text.Json;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// A scope's latest settings revisions (secrets masked), and putting one back: an admin whose
/// last change broke a plugin restores the revision before it, as a new write that is validated
/// against the plugin's schema now and offered to the plugin like any other.
/// </summary>
internal static class SettingsRevisionsApi
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/admin/api/plugins/{id}/settings/revisions").RequireAuthorization(PluginHostPolicies.Admin);

        api.MapGet(string.Empty, async (string id, string? tenant, PluginCatalog catalog, IPluginStore store, CancellationToken ct) =>
        {
            var secrets = SecretFields.Of(catalog.Find(id)!.SettingsSchema);
            var revisions = await store.GetSettingsRevisionsAsync(id, tenant ?? string.Empty, ct).ConfigureAwait(false);
            return Results.Ok(new
            {
                pluginId = id,
                tenant = tenant ?? string.Empty,
                kept = SqlitePluginStore.RevisionsKept,
                revisions = revisions.Select(r => new
                {
                    revision = r.Revision,
                    updatedAt = r.UpdatedAt,
                    settings = JsonDocument.Parse(SecretFields.MaskIn(r.Json, secrets)).RootElement,
                }),
            });
        }).ForSettingsScope();

        api.MapPost("/{revision}/restore", async (string id, string revision, string? tenant, HttpRequest request, IPluginStore store, SettingsService settings, PluginLifecycle lifecycle, CancellationToken ct) =>
        {
            if (!WholeNumber.TryRead(revision, out var number) || number is not >= 1)
            {
                return Results.Problem(title: "Bad revision", detail: $"Nothing was restored: '{revision}' is not a revision number. GET /admin/api/plugins/{id}/settings/revisions lists the kept revisions, each numbered from 1.", statusCode: 400);
            }

            if (!SettingsRevisionTag.TryParse(request.Headers.IfMatch, out var expected))
            {
                return Results.Problem(title: "Bad If-Match", detail: $"Nothing was restored: If-Match takes the ETag that GET returned for these settings, such as {SettingsRevisionTag.Format(3)}; leave it out to restore over whatever the current revision.", statusCode: 400);
            }

            var kept = await store.GetSettingsRevisionsAsync(id, tenant ?? string.Empty, ct).ConfigureAwait(false);
            if (kept.FirstOrDefault(r => r.Revision == number) is not { } earlier)
            {
                var which = kept.Count == 0 ? "none are kept" : $"those kept are {string.Join(", ", kept.Select(r => r.Revision))}";
                return Results.Problem(title: "No such revision", detail: $"Nothing was restored: revision {number} of '{id}'{TenantText(tenant)} is not kept ({which}; the last {SqlitePluginStore.RevisionsKept} are). GET /admin/api/plugins/{id}/settings/revisions lists them.", statusCode: 404);
            }

            return await AdminApi.WriteSettingsAsync(request.HttpContext, id, tenant ?? string.Empty, earlier.Json, expected, settings, lifecycle, restoredAs => $"revision {number} restored as revision {restoredAs}", ct).ConfigureAwait(false);
        }).Audited("settings.restore").ForSettingsScope();
    }

    private static string TenantText(string? tenant) => string.IsNullOrEmpty(tenant) ? string.Empty : $" for tenant '{tenant}'";
}
