using GrpcPlugins.Host.Hooks.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Hooks;

/// <summary>Runs an application's own endpoints through plugin hook points.</summary>
public static class EndpointHookConventions
{
    /// <summary>
    /// Runs each request of these endpoints through <see cref="EndpointHooks.Inbound"/>
    /// before the endpoint (after routing, authentication and authorization, before
    /// model binding, so a rewritten body is what the endpoint binds) and its response
    /// through <see cref="EndpointHooks.Outbound"/> before it is sent. A short-circuit
    /// answers the client instead (naming the plugin in <c>X-Short-Circuited-By</c>);
    /// a failed fail-closed point answers 502, 503 or 504 as problem details.
    /// Works on one endpoint, a route group, controllers, and YARP's
    /// <c>MapReverseProxy()</c> (an API gateway's proxied traffic).
    /// </summary>
    /// <remarks>
    /// Plugins see the request's headers except hop-by-hop, forwarding and the
    /// host's credentials and cookies, which they may not set either; on the way
    /// out, the response's headers except cookies and framing. A response is held
    /// until the endpoint completes or it passes <see cref="EndpointHooks.MaxBodyBytes"/>,
    /// when it goes on as a stream; give a streaming endpoint (server-sent events) a
    /// limit of 0, so that plugins see its head at its first write and nothing is held.
    /// </remarks>
    public static TBuilder WithPluginHooks<TBuilder>(this TBuilder builder, EndpointHooks hooks)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(hooks);
        if (Problem(hooks) is { } problem)
        {
            throw new ArgumentException(problem, nameof(hooks));
        }

        // Finally: the endpoint's own request delegate exists by then (a minimal API's is made
        // after the ordinary conventions), so the hooks wrap exactly what the endpoint runs.
        // Builders that have no Finally stage (YARP's MapReverseProxy: the interface's default
        // throws) make their delegate before any convention, so an ordinary one wraps it there.
        try
        {
            builder.Finally(endpoint => Wrap(endpoint, hooks));
        }
        catch (NotImplementedException)
        {
            builder.Add(endpoint => Wrap(endpoint, hooks));
        }

        return builder;
    }

    /// <summary>What is wrong with <paramref name="hooks"/>, or null.</summary>
    internal static string? Problem(EndpointHooks hooks) =>
        hooks.Inbound is null && hooks.Outbound is null
            ? "EndpointHooks names no hook point: set Inbound, Outbound or both."
            : hooks.MaxBodyBytes is < 0 or > EndpointHooks.MaxInspectableBytes
                ? $"EndpointHooks.MaxBodyBytes is {hooks.MaxBodyBytes}; use 0 to {EndpointHooks.MaxInspectableBytes} (a plugin call carries at most 16 MiB)."
                : null;

    private static void Wrap(EndpointBuilder endpoint, EndpointHooks hooks)
    {
        var inner = endpoint.RequestDelegate
            ?? throw new InvalidOperationException($"Endpoint '{endpoint.DisplayName}' has no request delegate to run through plugin hooks.");
        var routeId = hooks.RouteId ?? (endpoint as RouteEndpointBuilder)?.RoutePattern.RawText ?? endpoint.DisplayName ?? string.Empty;
        endpoint.Metadata.Add(new HookedEndpoint(hooks, routeId));
        var services = endpoint.ApplicationServices;
        if (services.GetService<IServiceProviderIsService>() is null)
        {
            // An endpoint builder without the application's services (YARP's): the runner is made
            // from the first request's, which are the application's.
            EndpointHookRunner? runner = null;
            endpoint.RequestDelegate = context => (runner ??= Runner(context.RequestServices)).InvokeAsync(context);
            return;
        }

        endpoint.RequestDelegate = Runner(services).InvokeAsync;

        EndpointHookRunner Runner(IServiceProvider from) => new(
            hooks,
            routeId,
            inner,
            from.GetService<EndpointHookServices>()
                ?? throw new InvalidOperationException($"Endpoint '{endpoint.DisplayName}' runs through plugin hooks, but the plugin host is not registered: call builder.Services.AddPluginHost(...) before building the application."));
    }
}
