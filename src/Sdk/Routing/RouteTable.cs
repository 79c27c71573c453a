namespace GrpcPlugins.Sdk;

/// <summary>Matches a method and a path to a registered route: exact paths first, then the longest "/*" prefix.</summary>
internal sealed class RouteTable(IReadOnlyList<RouteRegistration> routes)
{
    public IReadOnlyList<RouteRegistration> Routes { get; } = routes;

    /// <summary>
    /// The route for the request, or null; <paramref name="pathKnown"/> says whether another method would match.
    /// HEAD without a route of its own is served by the GET route (RFC 9110, 9.3.2): the handler sees HEAD,
    /// and the host sends the client its status and headers without the body.
    /// </summary>
    public RouteRegistration? Match(string method, string path, out bool pathKnown) =>
        MatchMethod(method, path, out pathKnown) ?? (method == "HEAD" ? MatchMethod("GET", path, out _) : null);

    private RouteRegistration? MatchMethod(string method, string path, out bool pathKnown)
    {
        RouteRegistration? best = null;
        var bestLength = -1;
        pathKnown = false;
        foreach (var route in Routes)
        {
            var length = MatchLength(route.Path, path);
            if (length < 0)
            {
                continue;
            }

            pathKnown = true;
            if ((route.Method == "*" || route.Method == method) && length > bestLength)
            {
                best = route;
                bestLength = length;
            }
        }

        return best;
    }

    private static int MatchLength(string template, string path)
    {
        if (template.EndsWith("/*", StringComparison.Ordinal))
        {
            var prefix = template[..^2];
            return path.Equals(prefix, StringComparison.Ordinal) || path.StartsWith(prefix + "/", StringComparison.Ordinal) ? prefix.Length : -1;
        }

        return string.Equals(template, path, StringComparison.Ordinal) ? int.MaxValue : -1;
    }
}
