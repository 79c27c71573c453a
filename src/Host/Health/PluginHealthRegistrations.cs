using GrpcPlugins.Host.Hooks.Breaker;
using GrpcPlugins.Host.Registry;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Health;

/// <summary>
/// Adds one health entry per discovered plugin. Plugins are found at start,
/// after the container is built, so their entries join the health service's
/// registrations then (it reads them at every check).
/// </summary>
internal sealed class PluginHealthRegistrations(IOptions<HealthCheckServiceOptions> options, PluginCatalog catalog, HookBreakers breakers)
{
    public const string Tag = "plugin";

    public void Register()
    {
        var registrations = options.Value.Registrations;
        foreach (var entry in catalog.Entries)
        {
            var name = "plugin:" + entry.Id;
            if (registrations.All(r => r.Name != name))
            {
                registrations.Add(new HealthCheckRegistration(name, new PluginHealthCheck(catalog, breakers, entry.Id), HealthStatus.Unhealthy, [Tag]));
            }
        }
    }
}
