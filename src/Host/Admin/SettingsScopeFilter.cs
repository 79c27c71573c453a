using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// What every admin settings endpoint checks before it reads or writes: the plugin in the
/// route is installed with a manifest (404), and a <c>tenant</c> given is a tenant id (400).
/// Added after an endpoint's audit filter, so its refusals are kept in the trail too.
/// </summary>
internal sealed class SettingsScopeFilter(PluginCatalog catalog) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        var id = request.RouteValues["id"] as string ?? string.Empty;
        if (catalog.Find(id)?.Manifest is null)
        {
            return AdminApi.UnknownPlugin(id);
        }

        if (TenantId.Problem(request.Query["tenant"].ToString()) is { } badTenant)
        {
            return AdminApi.BadTenant(badTenant);
        }

        return await next(context).ConfigureAwait(false);
    }
}

/// <summary>Puts <see cref="SettingsScopeFilter"/> on an admin settings endpoint.</summary>
internal static class SettingsScopeConventions
{
    public static RouteHandlerBuilder ForSettingsScope(this RouteHandlerBuilder builder) => builder.AddEndpointFilter<SettingsScopeFilter>();
}
