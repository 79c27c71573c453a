using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Hooks.Endpoints;

/// <summary>What every endpoint's hook runner shares: the dispatcher, the points' plugins (to know who wants a body), the host's options and the log.</summary>
internal sealed record EndpointHookServices(IHookDispatcher Dispatcher, IHookTargets Targets, IOptions<PluginHostOptions> Options, ILogger<EndpointHookRunner> Logger)
{
    /// <summary>
    /// True when a plugin at <paramref name="point"/> that may take <paramref name="tenant"/>'s
    /// <paramref name="method"/> request to <paramref name="routeId"/> reads bodies. When every one is
    /// headers only (or none takes the request), no body need be held for them.
    /// </summary>
    public bool AnyWantsBody(HookPoint point, string routeId, string method, string tenant)
    {
        foreach (var target in Targets.For(point.Name))
        {
            var match = target.Match;
            if (!match.HeadersOnly && match.AcceptsRouteId(routeId) && Routing.HookMatchRules.AcceptsMethod(match.Methods, method) && target.TakesTenant(tenant))
            {
                return true;
            }
        }

        return false;
    }
}
