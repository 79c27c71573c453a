namespace GrpcPlugins.Host.Hooks.Endpoints;

/// <summary>Endpoint metadata: the hook points an endpoint runs through and the route id plugins see, for the admin view.</summary>
internal sealed record HookedEndpoint(EndpointHooks Hooks, string RouteId);
