namespace GrpcPlugins.Routing;

/// <summary>
/// Which hook calls a match takes, and which patterns are valid. The host applies a
/// plugin's match before it calls; the Sdk applies the same one again, so a plugin under
/// a host that predates matches still sees only the calls it asked for. Compiled into
/// both, so they cannot disagree.
/// </summary>
internal static class HookMatchRules
{
    /// <summary>True when the call's route id, method and content type pass their lists (an empty list passes anything).</summary>
    public static bool Accepts(IReadOnlyList<string> routeIds, IReadOnlyList<string> methods, IReadOnlyList<string> contentTypes, string routeId, string method, string contentType)
    {
        if (!AcceptsRouteId(routeIds, routeId) || !AcceptsMethod(methods, method))
        {
            return false;
        }

        if (contentTypes.Count == 0)
        {
            return true;
        }

        // Loops rather than LINQ: this runs on every hook call.
        var mediaType = MediaType(contentType);
        for (var i = 0; i < contentTypes.Count; i++)
        {
            if (MediaTypeMatches(contentTypes[i], mediaType))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="routeId"/> is one of <paramref name="routeIds"/>, or starts with one ending in "*".</summary>
    public static bool AcceptsRouteId(IReadOnlyList<string> routeIds, string routeId)
    {
        if (routeIds.Count == 0)
        {
            return true;
        }

        for (var i = 0; i < routeIds.Count; i++)
        {
            var pattern = routeIds[i];
            if (pattern.EndsWith('*')
                ? routeId.AsSpan().StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
                : string.Equals(pattern, routeId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="method"/> is one of <paramref name="methods"/>; "GET" takes "HEAD" too, as HTTP does.</summary>
    public static bool AcceptsMethod(IReadOnlyList<string> methods, string method)
    {
        if (methods.Count == 0)
        {
            return true;
        }

        for (var i = 0; i < methods.Count; i++)
        {
            var listed = methods[i];
            if (string.Equals(listed, method, StringComparison.Ordinal) || (method == "HEAD" && listed == "GET"))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What is wrong with a method in a match, or null: an HTTP token in upper case, "*" left out.</summary>
    public static string? MethodProblem(string method) =>
        method.Length == 0 ? "is empty"
        : method == "*" ? "is not a method: leave the list empty for any method"
        : !HttpFieldSyntax.IsToken(method) ? "is not an HTTP method (letters, digits and !#$%&'*+-.^_`|~ only)"
        : method.Any(char.IsLower) ? $"must be in upper case, as HTTP sends it: write '{method.ToUpperInvariant()}'"
        : null;

    /// <summary>What is wrong with a route id pattern, or null: empty, or a "*" anywhere but at the end.</summary>
    public static string? RouteIdProblem(string pattern) =>
        pattern.Length == 0 ? "is empty"
        : pattern.IndexOf('*', StringComparison.Ordinal) is var star && star >= 0 && star != pattern.Length - 1 ? "may only end in '*' (a prefix), not hold one elsewhere"
        : null;

    /// <summary>What is wrong with a media type pattern, or null: it must be "type/subtype" or "type/*", without parameters.</summary>
    public static string? ContentTypeProblem(string pattern)
    {
        var slash = pattern.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 || slash == pattern.Length - 1 || pattern.IndexOf('/', slash + 1) >= 0 || pattern.Contains(';', StringComparison.Ordinal) || pattern.Contains(' ', StringComparison.Ordinal)
            ? "is not a media type: write 'type/subtype' or 'type/*', without parameters"
            : pattern[..slash] == "*" ? "may not leave the type open ('*/...'): leave the list empty for any"
            : null;
    }

    private static bool MediaTypeMatches(string pattern, ReadOnlySpan<char> mediaType) =>
        !mediaType.IsEmpty && (pattern.EndsWith("/*", StringComparison.Ordinal)
            ? mediaType.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.OrdinalIgnoreCase)
            : mediaType.Equals(pattern, StringComparison.OrdinalIgnoreCase));

    // "application/json; charset=utf-8" → "application/json".
    private static ReadOnlySpan<char> MediaType(string contentType)
    {
        var span = contentType.AsSpan();
        var semicolon = span.IndexOf(';');
        return (semicolon >= 0 ? span[..semicolon] : span).Trim();
    }
}
