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
    /// behind the admin policy unless the manifest declares the route anonymous)
    /// the admin API under <c>/admin/api</c>, <c>/healthz</c> (the host and one
    /// entry per plugin) and <c>/metrics</c> (Prometheus).
    /// </summary>
    public static IEndpointRouteBuilder MapPluginEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var forwarder = endpoints.ServiceProvider.GetRequiredService<PluginRouteForwarder>();
        // Auth is decided per request by the forwarder: only the manifest knows which routes are anonymous.
        endpoints.Map("/plugins/{id}/{**rest}", (HttpContext context, string id, string? rest) => forwarder.ForwardAsync(context, id, rest))
            .AllowAnonymous()
            .WithDisplayName("Plugin routes");
        AdminApi.Map(endpoints);
        AdminPage.Map(endpoints);
        BundleApi.Map(endpoints);
        TenantScopeApi.Map(endpoints);
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return endpoints;
    }
}
