namespace GrpcPlugins.Host.Hooks;

/// <summary>
/// Which calls at a hook point a plugin handles (its manifest's <c>match</c>): the host
/// makes no call at all for the others, so a plugin that cares about a few routes or
/// media types costs the rest of the traffic nothing.
/// </summary>
/// <param name="RouteIds">Whole route ids, or prefixes ending in "*"; empty for any.</param>
/// <param name="ContentTypes">Media types without parameters, or "type/*"; empty for any (a call without one matches only this).</param>
/// <param name="HeadersOnly">The plugin never reads the body: it is not sent, and may not be replaced.</param>
internal sealed record HookMatch(IReadOnlyList<string> RouteIds, IReadOnlyList<string> ContentTypes, bool HeadersOnly)
{
    /// <summary>Every call, with its body: a registration without a match.</summary>
    public static HookMatch Any { get; } = new([], [], false);

    /// <summary>What a plugin's Describe says, in the manifest's terms.</summary>
    public static HookMatch From(Protocol.V1.HookMatch described) =>
        new([.. described.RouteIds], [.. described.ContentTypes], described.HeadersOnly);

    public bool IsAny => RouteIds.Count == 0 && ContentTypes.Count == 0 && !HeadersOnly;

    // Value equality over the lists' items, in order (a record compares list references).
    public bool Equals(HookMatch? other) =>
        other is not null && HeadersOnly == other.HeadersOnly
        && RouteIds.SequenceEqual(other.RouteIds, StringComparer.Ordinal)
        && ContentTypes.SequenceEqual(other.ContentTypes, StringComparer.OrdinalIgnoreCase);

    public override int GetHashCode() => HashCode.Combine(HeadersOnly, RouteIds.Count, ContentTypes.Count);

    // On every hook call: loops, where LINQ's closures and enumerators would allocate.
    public bool Accepts(string routeId, string contentType)
    {
        if (!AcceptsRouteId(routeId))
        {
            return false;
        }

        if (ContentTypes.Count == 0)
        {
            return true;
        }

        var mediaType = MediaType(contentType);
        for (var i = 0; i < ContentTypes.Count; i++)
        {
            if (MediaTypeMatches(ContentTypes[i], mediaType))
            {
                return true;
            }
        }

        return false;
    }

    public bool AcceptsRouteId(string routeId)
    {
        if (RouteIds.Count == 0)
        {
            return true;
        }

        for (var i = 0; i < RouteIds.Count; i++)
        {
            if (RouteMatches(RouteIds[i], routeId))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A one-line account for the admin API ("routes /orders*; json; headers only"), empty for any.</summary>
    public string Describe()
    {
        var parts = new List<string>(3);
        if (RouteIds.Count > 0)
        {
            parts.Add("routes " + string.Join(", ", RouteIds));
        }

        if (ContentTypes.Count > 0)
        {
            parts.Add("content types " + string.Join(", ", ContentTypes));
        }

        if (HeadersOnly)
        {
            parts.Add("headers only");
        }

        return string.Join("; ", parts);
    }

    /// <summary>Why a pattern cannot work, or null: a "*" anywhere but at the end, or a media type that is not "type/subtype".</summary>
    public static string? RouteIdProblem(string pattern) =>
        pattern.Length == 0 ? "is empty"
        : pattern.IndexOf('*', StringComparison.Ordinal) is var star && star >= 0 && star != pattern.Length - 1 ? "may only end in '*' (a prefix), not hold one elsewhere"
        : null;

    /// <inheritdoc cref="RouteIdProblem"/>
    public static string? ContentTypeProblem(string pattern)
    {
        var slash = pattern.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 || slash == pattern.Length - 1 || pattern.IndexOf('/', slash + 1) >= 0 || pattern.Contains(';', StringComparison.Ordinal) || pattern.Contains(' ', StringComparison.Ordinal)
            ? "is not a media type: write 'type/subtype' or 'type/*', without parameters"
            : pattern[..slash] == "*" ? "may not leave the type open ('*/...'): leave the list empty for any"
            : null;
    }

    private static bool RouteMatches(string pattern, string routeId) =>
        pattern.EndsWith('*')
            ? routeId.AsSpan().StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
            : string.Equals(pattern, routeId, StringComparison.Ordinal);

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
