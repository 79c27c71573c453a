using System.Text.Json;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GrpcPlugins.Host.Admin;

/// <summary>The admin REST surface under /admin/api, behind the admin policy. Errors are problem details that say what to fix.</summary>
internal static class AdminApi
{
    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/admin/api").RequireAuthorization(PluginHostPolicies.Admin);

        api.MapGet("/plugins", (PluginCatalog catalog, PluginViewFactory views) =>
            Results.Ok(catalog.Entries.Select(e => views.Create(e, includeLogs: false))));

        api.MapGet("/hooks", (HookPointViewFactory views, EndpointDataSource endpoints) => Results.Ok(views.Create(endpoints.Endpoints)));

        // Who the caller is to the host, for the page to offer only what its key may do.
        api.MapGet("/me", (HttpContext context) =>
            Results.Ok(new { holder = Audit.AdminActor.Of(context.User), readOnly = Auth.AdminAccess.IsReadOnly(context.User) }));

        api.MapGet("/plugins/{id}", (string id, PluginCatalog catalog, PluginViewFactory views) =>
            catalog.Find(id) is { } entry ? Results.Ok(views.Create(entry, includeLogs: true)) : UnknownPlugin(id));

        api.MapPost("/plugins/{id}/enable", async (string id, PluginLifecycle lifecycle, PluginCatalog catalog, PluginViewFactory views, CancellationToken ct) =>
            await lifecycle.EnableAsync(id, ct).ConfigureAwait(false) switch
            {
                PluginLifecycle.EnableResult.Enabled => Results.Ok(views.Create(catalog.Find(id)!, false)),
                PluginLifecycle.EnableResult.PendingConfig => Results.Problem(title: "Activation refused", detail: lifecycle.StateOf(id).Reason, statusCode: 409),
                _ => NotManageable(id, catalog),
            }).Audited("plugin.enable");

        api.MapPost("/plugins/{id}/disable", async (string id, PluginLifecycle lifecycle, PluginCatalog catalog, PluginViewFactory views, CancellationToken ct) =>
            await lifecycle.DisableAsync(id, ct).ConfigureAwait(false) ? Results.Ok(views.Create(catalog.Find(id)!, false)) : NotManageable(id, catalog))
            .Audited("plugin.disable");

        api.MapPost("/plugins/{id}/restart", async (string id, PluginLifecycle lifecycle, PluginCatalog catalog, PluginViewFactory views, CancellationToken ct) =>
            await lifecycle.RestartAsync(id, ct).ConfigureAwait(false) switch
            {
                (PluginLifecycle.RestartResult.Restarting, _) => Results.Accepted(value: views.Create(catalog.Find(id)!, false)),
                (PluginLifecycle.RestartResult.NotMeantToRun, var reason) => Results.Problem(title: "Restart refused", detail: reason, statusCode: 409),
                _ => NotManageable(id, catalog),
            }).Audited("plugin.restart");

        api.MapGet("/plugins/{id}/settings", async (string id, string? tenant, HttpResponse response, PluginCatalog catalog, SettingsService settings, CancellationToken ct) =>
        {
            var entry = catalog.Find(id)!;
            var stored = await settings.GetAsync(id, tenant ?? string.Empty, maskSecrets: true, ct).ConfigureAwait(false);
            response.Headers.ETag = SettingsRevisionTag.Format(stored?.Revision ?? 0);
            return Results.Ok(new
            {
                pluginId = id,
                tenant = tenant ?? string.Empty,
                revision = stored?.Revision ?? 0,
                settings = JsonDocument.Parse(stored?.Json ?? "{}").RootElement,
                schema = entry.SettingsSchema,
            });
        }).ForSettingsScope();

        api.MapGet("/plugins/{id}/settings/tenants", async (string id, IPluginStore store, SettingsLimits limits, CancellationToken ct) =>
        {
            var scopes = await store.ListSettingsScopesAsync(id, ct).ConfigureAwait(false);
            return Results.Ok(new
            {
                pluginId = id,
                tenants = scopes.Where(s => s.TenantId.Length > 0).Select(s => new { tenant = s.TenantId, s.Revision, s.Bytes, s.UpdatedAt }),
                tenantCount = scopes.Count(s => s.TenantId.Length > 0),
                bytes = scopes.Sum(s => s.Bytes),
                maxTenants = limits.MaxTenants,
                maxBytes = limits.MaxTotalBytes,
            });
        }).ForSettingsScope();

        api.MapDelete("/plugins/{id}/settings", async (string id, string? tenant, HttpRequest request, SettingsService settings, CancellationToken ct) =>
        {
            if (string.IsNullOrEmpty(tenant))
            {
                return Results.Problem(title: "Name a tenant", detail: $"Nothing was deleted: only a tenant's settings can be deleted (?tenant=T). The plugin-wide settings are replaced with PUT, or removed with the plugin (DELETE /admin/api/plugins/{id}?keepSettings=false).", statusCode: 400);
            }

            var deletion = await settings.DeleteTenantAsync(id, tenant, AdminActor.Of(request.HttpContext.User), ct).ConfigureAwait(false);
            AuditNote.Of(request.HttpContext).Detail = $"the running plugin: {TenantRemovalName(deletion.Plugin)}{(deletion.Detail is { } why ? $" ({why})" : string.Empty)}";
            return deletion.Found
                ? Results.Ok(new { pluginId = id, tenant, plugin = TenantRemovalName(deletion.Plugin), detail = deletion.Detail })
                : Results.Problem(title: "No settings for that tenant", detail: $"'{id}' has no settings for tenant '{tenant}'; GET /admin/api/plugins/{id}/settings/tenants lists those it has.", statusCode: 404);
        }).Audited("settings.delete").ForSettingsScope();

        api.MapPut("/plugins/{id}/settings", async (string id, string? tenant, HttpRequest request, SettingsService settings, PluginLifecycle lifecycle, CancellationToken ct) =>
        {
            if (!SettingsRevisionTag.TryParse(request.Headers.IfMatch, out var expected))
            {
                return Results.Problem(title: "Bad If-Match", detail: $"Nothing was saved: If-Match takes the ETag that GET returned for these settings, such as {SettingsRevisionTag.Format(3)}; leave it out to write whatever the current revision.", statusCode: 400);
            }

            if (await RequestText.ReadAsync(request, ct).ConfigureAwait(false) is not { } json)
            {
                return RequestText.NotUtf8("saved");
            }

            return await WriteSettingsAsync(request.HttpContext, id, tenant ?? string.Empty, json, expected, settings, lifecycle, revision => $"revision {revision}", ct).ConfigureAwait(false);
        }).Audited("settings.put").ForSettingsScope();

        return api;
    }

    /// <summary>
    /// An admin's settings write, a PUT's or a restore's: offered and committed, then the lifecycle told
    /// (a plugin waiting for settings may start), the audit entry given <paramref name="done"/>'s words
    /// for the new revision, and the answer: the revision, or what to fix.
    /// </summary>
    internal static async Task<IResult> WriteSettingsAsync(HttpContext context, string id, string tenant, string json, long? expected, SettingsService settings, PluginLifecycle lifecycle, Func<long, string> done, CancellationToken ct)
    {
        var result = await settings.PutAsync(id, tenant, json, pushToPlugin: true, expected, AdminActor.Of(context.User), ct).ConfigureAwait(false);
        if (result is SettingsWriteResult.Committed committed)
        {
            AuditNote.Of(context).Detail = done(committed.Revision);
            await lifecycle.OnSettingsCommittedAsync(id, ct).ConfigureAwait(false);
        }

        return WriteAnswer(context.Response, id, tenant, result);
    }

    private static IResult WriteAnswer(HttpResponse response, string id, string tenant, SettingsWriteResult result) =>
        result switch
        {
            SettingsWriteResult.Committed committed => Committed(response, id, tenant, committed.Revision),
            SettingsWriteResult.Conflict conflict => Results.Problem(
                title: "The settings changed since they were read",
                detail: $"Nothing was saved: If-Match names revision {conflict.Expected}, and the stored settings are at revision {conflict.Current}. GET them again, apply your change to what is there now, and send it with the new ETag.",
                statusCode: 412),
            SettingsWriteResult.Invalid invalid => FieldErrors("Settings do not match the plugin's schema", "Fix every field listed in 'errors' and send the settings again.", invalid.Errors),
            SettingsWriteResult.Rejected rejected => FieldErrors("The plugin rejected the settings", "Nothing was saved. Fix every field listed in 'errors' and send the settings again.", rejected.Errors),
            SettingsWriteResult.OverLimit over => Results.Problem(
                title: over.Problem.TooLarge ? "The settings are too large" : "The plugin's settings are at this host's limit",
                detail: $"Nothing was saved: {over.Problem.Message}",
                statusCode: over.Problem.TooLarge ? 413 : 409),
            SettingsWriteResult.NotAnswered notAnswered => Results.Problem(
                title: "The plugin did not answer",
                detail: $"Nothing was saved: '{id}' was offered the settings and {WhatHappened(notAnswered.Failure.Kind)} ({notAnswered.Failure.Detail}). Send them again once it is Ready; GET /admin/api/plugins/{id} shows its state and last error.",
                statusCode: notAnswered.Failure.StatusCode),
            _ => UnknownPlugin(id),
        };

    private static string TenantRemovalName(TenantRemovalPush push) => push switch
    {
        TenantRemovalPush.Forgotten => "forgotten",
        TenantRemovalPush.NotRunning => "not-running",
        TenantRemovalPush.Refused => "refused",
        _ => "not-answered",
    };

    private static IResult Committed(HttpResponse response, string id, string tenant, long revision)
    {
        response.Headers.ETag = SettingsRevisionTag.Format(revision);
        return Results.Ok(new { pluginId = id, tenant, revision });
    }

    private static IResult FieldErrors(string title, string detail, IReadOnlyList<(string Path, string Message)> errors) =>
        Results.Problem(
            title: title,
            detail: detail,
            statusCode: 422,
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = errors.Select(e => new { path = e.Path, message = e.Message }).ToList(),
            });

    private static string WhatHappened(CallFailureKind kind) => kind switch
    {
        CallFailureKind.TimedOut => "did not answer in time",
        CallFailureKind.Crashed => "crashed",
        CallFailureKind.Unavailable => "was not available",
        CallFailureKind.CircuitOpen => "is paused after repeated timeouts",
        CallFailureKind.Busy => "had its limit of calls in flight",
        _ => "failed",
    };

    internal static IResult BadTenant(string problem) =>
        Results.Problem(title: "Bad tenant id", detail: $"Nothing was read or saved: {problem} Leave 'tenant' out for the plugin-wide settings.", statusCode: 400);

    internal static IResult UnknownPlugin(string id) =>
        Results.Problem(title: "Unknown plugin", detail: $"No plugin with id '{id}' is installed; GET /admin/api/plugins lists them.", statusCode: 404);

    private static IResult NotManageable(string id, PluginCatalog catalog) => catalog.Find(id) is { } entry
        ? Results.Problem(title: "Plugin was refused at load", detail: string.Join(" ", entry.Refusal) + " Fix its folder and restart the host.", statusCode: 409)
        : UnknownPlugin(id);
}
