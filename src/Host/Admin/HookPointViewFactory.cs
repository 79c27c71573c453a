using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hooks.Endpoints;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// Builds the hook point views from the points the host declares, the endpoints
/// that run through points and the plugins that register for them, so a point a
/// plugin registers for and nothing runs (a misspelt name) shows up with a warning.
/// </summary>
internal sealed class HookPointViewFactory(PluginCatalog catalog, CatalogHookTargets targets, IOptions<PluginHostOptions> options)
{
    public IReadOnlyList<HookPointView> Create(IEnumerable<Endpoint> endpoints)
    {
        var declared = options.Value.HookPoints;
        var hooked = endpoints.SelectMany(e => e.Metadata.GetOrderedMetadata<HookedEndpoint>());
        if (options.Value.PluginRouteHooks is { } routeHooks)
        {
            hooked = hooked.Append(new HookedEndpoint(routeHooks, "/plugins/{id}/{**path}"));
        }

        var uses = hooked.SelectMany(Uses).ToList();
        var registered = catalog.Entries
            .Where(e => e.Manifest is not null)
            .SelectMany(e => e.Manifest!.Hooks.Select(h => h.Point));
        // The declared points in their order, then the others by name.
        var names = declared.Select(p => p.Name)
            .Concat(uses.Select(u => u.Point.Name).Concat(registered).Order(StringComparer.Ordinal))
            .Distinct(StringComparer.Ordinal);

        return [.. names.Select(name =>
        {
            var declaredPoint = declared.FirstOrDefault(p => p.Name == name);
            var point = declaredPoint ?? uses.FirstOrDefault(u => u.Point.Name == name).Point;
            var plugins = targets.Registered(name).Select(p => new HookPointPluginView(p.PluginId, p.State, p.Called)).ToList();
            var routes = uses.Where(u => u.Point.Name == name).Select(u => new HookPointEndpointView(u.Route, u.Direction)).ToList();
            return new HookPointView(
                name,
                declaredPoint is not null,
                point?.FailureMode.ToString(),
                point?.Deadline.TotalMilliseconds,
                plugins,
                routes,
                Warning(name, point, plugins, declared));
        })];
    }

    private static string? Warning(string name, HookPoint? point, List<HookPointPluginView> plugins, IList<HookPoint> declared)
    {
        if (point is null)
        {
            if (plugins.Count == 0)
            {
                // Only refused plugins name it: their refusal says more than this would.
                return null;
            }

            var known = declared.Count == 0 ? "none" : string.Join(", ", declared.Select(p => $"'{p.Name}'"));
            var who = plugins.Count == 1 ? $"'{plugins[0].Id}' is" : $"{string.Join(", ", plugins.Select(p => $"'{p.Id}'"))} are";
            return $"The host does not declare a hook point '{name}' (PluginHost HookPoints) or run an endpoint through one, so {who} never called at it unless the host's own code dispatches it. Check the name in their plugin.json 'hooks' against the host's points: {known}.";
        }

        return plugins.Count == 0 ? $"No plugin registers for '{name}': calls pass through it unchanged." : null;
    }

    private static IEnumerable<(HookPoint Point, string Route, string Direction)> Uses(HookedEndpoint endpoint)
    {
        if (endpoint.Hooks.Inbound is { } inbound)
        {
            yield return (inbound, endpoint.RouteId, "inbound");
        }

        if (endpoint.Hooks.Outbound is { } outbound)
        {
            yield return (outbound, endpoint.RouteId, "outbound");
        }
    }
}
