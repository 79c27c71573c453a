using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hooks.Endpoints;
using GrpcPlugins.Host.Hooks.Tenancy;
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
internal sealed class HookPointViewFactory(PluginCatalog catalog, CatalogHookTargets targets, TenantScopes scopes, IOptions<PluginHostOptions> options)
{
    private const string PluginRoutesPattern = "/plugins/{id}/{**path}";

    public IReadOnlyList<HookPointView> Create(IEnumerable<Endpoint> endpoints)
    {
        var declared = options.Value.HookPoints;
        var hooked = endpoints.SelectMany(e => e.Metadata.GetOrderedMetadata<HookedEndpoint>());
        if (options.Value.PluginRouteHooks is { } routeHooks)
        {
            hooked = hooked.Append(new HookedEndpoint(routeHooks, PluginRoutesPattern));
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
            var registrations = targets.Registered(name);
            var plugins = registrations.Select(p => new HookPointPluginView(
                p.PluginId, p.State, p.Called, p.Match.IsAny ? null : p.Match.Describe(), scopes.For(p.PluginId) is { Mode: not TenantScopeMode.All } ? scopes.Describe(p.PluginId) : null)).ToList();
            var routes = uses.Where(u => u.Point.Name == name).Select(u => new HookPointEndpointView(u.Route, u.Direction)).ToList();
            return new HookPointView(
                name,
                declaredPoint is not null,
                point?.FailureMode.ToString(),
                point?.Deadline.TotalMilliseconds,
                plugins,
                routes,
                Warning(name, point, plugins, declared) ?? UnmatchedWarning(registrations, RouteIdsAt(routes)));
        })];
    }

    // The route ids calls at a point carry: each endpoint's pattern, and "/plugins/{id}" for the
    // plugins' own routes (the id their hooks are dispatched with). Null when nothing runs through it.
    private List<string>? RouteIdsAt(List<HookPointEndpointView> routes)
    {
        if (routes.Count == 0)
        {
            return null;
        }

        var ids = routes.Select(r => r.Route).Where(r => r != PluginRoutesPattern).ToList();
        if (ids.Count < routes.Count)
        {
            ids.AddRange(catalog.Entries.Where(e => e.Manifest is { Routes.Count: > 0 }).Select(e => $"/plugins/{e.Id}"));
        }

        return ids;
    }

    // A match no endpoint on the point can pass is most likely a typo in a route id.
    private static string? UnmatchedWarning(IReadOnlyList<(string PluginId, string State, bool Called, HookMatch Match)> registrations, List<string>? routeIds)
    {
        if (routeIds is null)
        {
            return null;
        }

        var spared = registrations
            .Where(r => !routeIds.Exists(r.Match.AcceptsRouteId))
            .Select(r => $"'{r.PluginId}' (routes {string.Join(", ", r.Match.RouteIds)})")
            .ToList();
        return spared.Count == 0 ? null
            : $"{string.Join(", ", spared)} match{(spared.Count == 1 ? "es" : "")} none of the route ids that run through this point ({string.Join(", ", routeIds)}), so {(spared.Count == 1 ? "it is" : "they are")} never called unless the host's own code dispatches such a route id. Check the 'routeIds' in the hook's match in plugin.json.";
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
