using GrpcPlugins.Host.Admin;
using GrpcPlugins.Host.Health;
using GrpcPlugins.Host.Routes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Host.Hosting;

/// <summary>Maps the plugin host's HTTP endpoints.</summary>
public static class PluginEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>/plugins/{id}/{**path}</c> (any method, forwarded to the plugin,
    /// behind the <see cref="Auth.PluginHostPolicies.Routes"/> policy unless the manifest
    /// declares the route anonymous), the admin API under <c>/admin/api</c> and its page at
    /// <c>/admin</c>, <c>/healthz</c> (the host and one entry per plugin) and <c>/metrics</c>
    /// (Prometheus); returns each group, for the host's own conventions on it.
    /// </summary>
    public static PluginEndpoints MapPluginEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var forwarder = endpoints.ServiceProvider.GetRequiredService<PluginRouteForwarder>();
        // Auth is decided per request by the forwarder: only the manifest knows which routes are anonymous.
        var routes = endpoints.Map("/plugins/{id}/{**rest}", (HttpContext context, string id, string? rest) => forwarder.ForwardAsync(context, id, rest))
            .AllowAnonymous()
            .WithDisplayName("Plugin routes");
        var admin = endpoints.MapGroup(string.Empty);
        admin.AddEndpointFilter<StoreFailureFilter>();
        AdminApi.Map(admin);
        AdminPage.Map(admin);
        BundleApi.Map(admin);
        TenantScopeApi.Map(admin);
        Audit.AuditApi.Map(admin);
        SettingsRevisionsApi.Map(admin);
        PluginDataApi.Map(admin);
        StoreApi.Map(admin);
        var health = endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        var metrics = endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return new PluginEndpoints(routes, admin, health, metrics);
    }
}
