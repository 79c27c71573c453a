using Microsoft.AspNetCore.Builder;

namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// What <see cref="PluginEndpointRouteBuilderExtensions.MapPluginEndpoints"/> mapped, in four
/// groups, for the host's own conventions on each: rate limiting, CORS, request timeouts,
/// host filtering, or authorization on <see cref="Metrics"/>.
/// </summary>
/// <example>
/// <code>
/// var plugins = app.MapPluginEndpoints();
/// plugins.Routes.RequireRateLimiting("per-client");
/// plugins.Metrics.RequireAuthorization(PluginHostPolicies.Admin);
/// </code>
/// </example>
public sealed class PluginEndpoints
{
    internal PluginEndpoints(IEndpointConventionBuilder routes, IEndpointConventionBuilder admin, IEndpointConventionBuilder health, IEndpointConventionBuilder metrics)
    {
        Routes = routes;
        Admin = admin;
        Health = health;
        Metrics = metrics;
    }

    /// <summary>
    /// The plugins' own routes, <c>/plugins/{id}/{**path}</c>. Who may call them is the
    /// <see cref="Auth.PluginHostPolicies.Routes"/> policy, decided per request because only the
    /// manifest knows which routes are anonymous: redefine that policy rather than adding
    /// authorization here, which the endpoint's anonymous routes would bypass.
    /// </summary>
    public IEndpointConventionBuilder Routes { get; }

    /// <summary>The admin API under <c>/admin/api</c> and the admin page at <c>/admin</c>, behind <see cref="Auth.PluginHostPolicies.Admin"/>.</summary>
    public IEndpointConventionBuilder Admin { get; }

    /// <summary><c>/healthz</c>: the host and one entry per plugin. Anonymous unless you add a requirement.</summary>
    public IEndpointConventionBuilder Health { get; }

    /// <summary><c>/metrics</c> for Prometheus. Anonymous unless you add a requirement; it names every plugin.</summary>
    public IEndpointConventionBuilder Metrics { get; }
}
