namespace GrpcPlugins.Sdk;

/// <summary>Matches a method and a path to a registered route: whole paths before "/*" prefixes, then the most literal segments (<see cref="Routing.RouteTemplate.Rank"/>).</summary>
internal sealed class RouteTable(IReadOnlyList<RouteRegistration> routes)
{
    private static readonly IReadOnlyDictionary<string, string> s_noValues = new Dictionary<string, string>(0);

    public IReadOnlyList<RouteRegistration> Routes { get; } = routes;

    /// <summary>
    /// The route for the request, or null; <paramref name="pathKnown"/> says whether another method would match.
    /// HEAD without a route of its own is served by the GET route (RFC 9110, 9.3.2): the handler sees HEAD,
    /// and the host sends the client its status and headers without the body.
    /// </summary>
    public RouteRegistration? Match(string method, string path, out bool pathKnown) =>
        MatchMethod(method, path, out pathKnown) ?? (method == "HEAD" ? MatchMethod("GET", path, out _) : null);

    /// <summary>The values <paramref name="route"/>'s "{name}" segments captured from <paramref name="path"/>.</summary>
    public static IReadOnlyDictionary<string, string> ValuesOf(RouteRegistration route, string path)
    {
        if (!route.Template.HasParameters)
        {
            return s_noValues;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        route.Template.Matches(path, values);
        return values;
    }

    private RouteRegistration? MatchMethod(string method, string path, out bool pathKnown)
    {
        RouteRegistration? best = null;
        pathKnown = false;
        foreach (var route in Routes)
        {
            if (!route.Template.Matches(path))
            {
                continue;
            }

            pathKnown = true;
            if ((route.Method == "*" || route.Method == method) && (best is null || route.Template.Rank > best.Template.Rank))
            {
                best = route;
            }
        }

        return best;
    }
}
