using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Hooks.Tenancy;
using GrpcPlugins.Host.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// Which tenants' calls reach a plugin, behind the admin policy:
/// GET /admin/api/plugins/{id}/tenant-scope, PUT with <c>{"only": [...]}</c>,
/// <c>{"except": [...]}</c> or <c>{}</c> (every tenant), and DELETE for the host's default.
/// </summary>
internal static class TenantScopeApi
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/admin/api/plugins/{id}/tenant-scope").RequireAuthorization(PluginHostPolicies.Admin);

        api.MapGet(string.Empty, (string id, PluginCatalog catalog, TenantScopes scopes) =>
            catalog.Find(id) is null ? AdminApi.UnknownPlugin(id) : Results.Ok(View(id, scopes)));

        api.MapDelete(string.Empty, async (string id, HttpContext context, PluginCatalog catalog, TenantScopes scopes, CancellationToken ct) =>
        {
            if (catalog.Find(id) is null)
            {
                return AdminApi.UnknownPlugin(id);
            }

            await scopes.ResetAsync(id, AdminActor.Of(context.User), ct).ConfigureAwait(false);
            AuditNote.Of(context).Detail = scopes.Describe(id);
            return Results.Ok(View(id, scopes));
        }).Audited("tenant-scope.reset");

        api.MapPut(string.Empty, async (string id, HttpRequest request, PluginCatalog catalog, TenantScopes scopes, CancellationToken ct) =>
        {
            if (catalog.Find(id) is null)
            {
                return AdminApi.UnknownPlugin(id);
            }

            if (await RequestText.ReadAsync(request, ct).ConfigureAwait(false) is not { } body)
            {
                return RequestText.NotUtf8("changed");
            }

            var errors = new List<string>();
            if (TenantScopeJson.Read(body, errors) is not { } scope)
            {
                return Results.Problem(
                    title: "Not a tenant scope",
                    detail: "Nothing was changed. Fix every item in 'errors' and send the scope again.",
                    statusCode: 400,
                    extensions: new Dictionary<string, object?> { ["errors"] = errors });
            }

            await scopes.SetAsync(id, scope, AdminActor.Of(request.HttpContext.User), ct).ConfigureAwait(false);
            AuditNote.Of(request.HttpContext).Detail = scopes.Describe(id);
            return Results.Ok(View(id, scopes));
        }).Audited("tenant-scope.set");
    }

    private static object View(string id, TenantScopes scopes) => new
    {
        pluginId = id,
        scope = TenantScopeJson.Write(scopes.For(id)),
        takes = scopes.Describe(id),
        isDefault = scopes.SetByAdmin(id) is null,
    };
}
