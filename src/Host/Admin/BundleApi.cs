using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Bundles;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.AspNetCore.Builder;
using GrpcPlugins.Host.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// Install, upgrade and uninstall at runtime, behind the admin policy:
/// POST /admin/api/bundles (the archive) → what it is and the permissions it
/// asks for; POST /admin/api/bundles/{address}/install?accept=… → installed or
/// upgraded; DELETE /admin/api/plugins/{id}?keepSettings=true|false.
/// </summary>
internal static class BundleApi
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/admin/api").RequireAuthorization(PluginHostPolicies.Admin);

        api.MapPost("/bundles", async (HttpContext context, PluginInstaller installer, StagedBundles staging, IOptions<PluginHostOptions> options, CancellationToken ct) =>
        {
            // Bundles are larger than the host's usual request limit; this endpoint has its own.
            var max = options.Value.MaxBundleBytes;
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = max;
            }

            if (context.Request.ContentLength > max)
            {
                return TooLarge(context.Request.ContentLength.Value, max);
            }

            InstallPreview preview;
            try
            {
                preview = await installer.StageAsync(context.Request.Body, context.Request.ContentLength, AdminActor.Of(context.User), ct).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge(null, max);
            }
            catch (NotEnoughRoomException ex)
            {
                return Results.Problem(title: "Not enough room", detail: $"{ex.Message} Nothing was staged.", statusCode: StatusCodes.Status507InsufficientStorage);
            }

            var note = AuditNote.Of(context);
            note.PluginId = preview.Id;
            note.Detail = $"staged {preview.Id} {preview.Version} as bundle {preview.Address}";
            return preview.Errors.Count > 0
                ? Results.Problem(title: "Bundle refused", detail: string.Join(" ", preview.Errors), statusCode: 422, extensions: new Dictionary<string, object?> { ["address"] = preview.Address })
                : Results.Ok(new { preview.Address, preview.Id, preview.Version, preview.InstalledVersion, preview.Action, preview.Permissions, preview.Signer, Expires = staging.ExpiryOf(preview.Address) });
        }).DisableAntiforgery().Audited("bundle.stage");

        api.MapPost("/bundles/{address}/install", async (string address, string? accept, HttpContext context, PluginInstaller installer, CancellationToken ct) =>
        {
            var accepted = Accepted(accept);
            if (await RequestText.ReadAsync(context.Request, ct).ConfigureAwait(false) is not { } body)
            {
                return RequestText.NotUtf8("installed");
            }

            var errors = new List<string>();
            var scope = InstallOptions.ReadTenantScope(body, errors);
            if (errors.Count > 0)
            {
                return Results.Problem(
                    title: "Bad install options",
                    detail: "Nothing was installed. The body is optional; when given it is {\"tenantScope\": {\"only\": [\"acme\"]}} (or \"except\", or {} for every tenant). Fix every item in 'errors'.",
                    statusCode: 400,
                    extensions: new Dictionary<string, object?> { ["errors"] = errors });
            }

            var result = await installer.InstallAsync(address, accepted, AdminActor.Of(context.User), scope, ct).ConfigureAwait(false);
            var note = AuditNote.Of(context);
            note.PluginId = result.PluginId;
            note.Detail = $"{result.Message} (bundle {address})";
            return result.Succeeded
                ? Results.Ok(new { pluginId = result.PluginId, version = result.Version, result = result.Message, address })
                : Results.Problem(title: "Install refused", detail: result.Message, statusCode: result.Status, extensions: Consent(result));
        }).Audited("bundle.install");

        // keepSettings is read here, not bound as bool?: a binding failure answers a bare 400 that says nothing.
        api.MapDelete("/plugins/{id}", async (string id, string? keepSettings, HttpContext context, PluginInstaller installer, CancellationToken ct) =>
        {
            var keep = true;
            if (keepSettings is not null && !bool.TryParse(keepSettings, out keep))
            {
                return Results.Problem(title: "Bad keepSettings", detail: $"Nothing was uninstalled: 'keepSettings' is '{keepSettings}'; it takes true (the default: the plugin's settings stay in the store) or false (its settings and data directory are removed with it).", statusCode: 400);
            }

            AuditNote.Of(context).Detail = keep ? "settings kept" : "settings and data directory removed";
            return await installer.UninstallAsync(id, keep, AdminActor.Of(context.User), followed: false, ct).ConfigureAwait(false) is { Succeeded: false } refused
                ? Results.Problem(title: refused.Status == 404 ? "Unknown plugin" : "Uninstall refused", detail: refused.Message, statusCode: refused.Status)
                : Results.NoContent();
        })
            .Audited("plugin.uninstall");

        api.MapPost("/plugins/{id}/rollback", async (string id, HttpContext context, PluginInstaller installer, CancellationToken ct) =>
            Answer(context, id, "Rollback refused", await installer.RollBackAsync(id, AdminActor.Of(context.User), ct).ConfigureAwait(false)))
            .Audited("plugin.rollback");

        // What a reload would find, changing nothing: for the page to ask consent before it acts, and for a script's dry run.
        api.MapGet("/plugins/{id}/reload", async (string id, PluginInstaller installer, CancellationToken ct) =>
            await installer.PreviewReloadAsync(id, ct).ConfigureAwait(false) is { } preview
                ? Results.Ok(preview)
                : Results.Problem(title: "Unknown plugin", detail: $"No plugin with id '{id}' runs here: it is not installed, or was refused at load (mend its folder and restart the host).", statusCode: 404));

        api.MapPost("/plugins/{id}/reload", async (string id, string? accept, HttpContext context, PluginInstaller installer, CancellationToken ct) =>
            Answer(context, id, "Reload refused", await installer.ReloadAsync(id, Accepted(accept), ct).ConfigureAwait(false)))
            .Audited("plugin.reload");

        api.MapGet("/plugins/{id}/installs", async (string id, IPluginStore store, CancellationToken ct) =>
            Results.Ok(await store.GetInstallsAsync(id, ct).ConfigureAwait(false)));
    }

    private static IResult TooLarge(long? size, long max) => Results.Problem(
        title: "Bundle too large",
        detail: $"The bundle{(size is { } bytes ? $" is {bytes} bytes; it" : string.Empty)} exceeds PluginHost:MaxBundleBytes ({max} bytes). Raise that option if the bundle is genuine.",
        statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>The permissions an admin accepted: <c>?accept=p1,p2</c>.</summary>
    private static HashSet<string> Accepted(string? accept) =>
        (accept ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>A plugin action's answer, its outcome noted for the audit trail.</summary>
    private static IResult Answer(HttpContext context, string id, string refused, InstallResult result)
    {
        var note = AuditNote.Of(context);
        note.PluginId = id;
        note.Detail = result.Message;
        return result.Succeeded
            ? Results.Ok(new { pluginId = result.PluginId, version = result.Version, result = result.Message })
            : Results.Problem(title: result.Status == 404 ? "Unknown plugin" : refused, detail: result.Message, statusCode: result.Status, extensions: Consent(result));
    }

    /// <summary>The permissions a refusal for want of consent names, for a client to ask its admin and send back as <c>?accept=</c>.</summary>
    private static Dictionary<string, object?>? Consent(InstallResult result) =>
        result.AwaitingConsent is { } permissions ? new() { ["permissions"] = permissions } : null;
}
