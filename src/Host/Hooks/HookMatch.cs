using GrpcPlugins.Routing;

namespace GrpcPlugins.Host.Hooks;

/// <summary>
/// Which calls at a hook point a plugin handles (its manifest's <c>match</c>): the host
/// makes no call at all for the others, so a plugin that cares about a few routes or
/// media types costs the rest of the traffic nothing.
/// </summary>
/// <param name="RouteIds">Whole route ids, or prefixes ending in "*"; empty for any.</param>
/// <param name="ContentTypes">Media types without parameters, or "type/*"; empty for any (a call without one matches only this).</param>
/// <param name="HeadersOnly">The plugin never reads the body: it is not sent, and may not be replaced.</param>
/// <param name="Methods">HTTP methods in upper case ("GET" takes "HEAD"); empty for any (a call without one matches only this).</param>
internal sealed record HookMatch(IReadOnlyList<string> RouteIds, IReadOnlyList<string> ContentTypes, bool HeadersOnly, IReadOnlyList<string> Methods)
{
    /// <summary>Every call, with its body: a registration without a match.</summary>
    public static HookMatch Any { get; } = new([], [], false, []);

    /// <summary>What a plugin's Describe says, in the manifest's terms.</summary>
    public static HookMatch From(Protocol.V1.HookMatch described) =>
        new([.. described.RouteIds], [.. described.ContentTypes], described.HeadersOnly, [.. described.Methods]);

    public bool IsAny => RouteIds.Count == 0 && ContentTypes.Count == 0 && !HeadersOnly && Methods.Count == 0;

    // Value equality over the lists' items, in order (a record compares list references).
    public bool Equals(HookMatch? other) =>
        other is not null && HeadersOnly == other.HeadersOnly
        && RouteIds.SequenceEqual(other.RouteIds, StringComparer.Ordinal)
        && ContentTypes.SequenceEqual(other.ContentTypes, StringComparer.OrdinalIgnoreCase)
        && Methods.SequenceEqual(other.Methods, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(HeadersOnly, RouteIds.Count, ContentTypes.Count, Methods.Count);

    public bool Accepts(string routeId, string method, string contentType) => HookMatchRules.Accepts(RouteIds, Methods, ContentTypes, routeId, method, contentType);

    public bool AcceptsRouteId(string routeId) => HookMatchRules.AcceptsRouteId(RouteIds, routeId);

    /// <summary>A one-line account for the admin API ("routes /orders*; methods POST; json; headers only"), empty for any.</summary>
    public string Describe()
    {
        var parts = new List<string>(4);
        if (RouteIds.Count > 0)
        {
            parts.Add("routes " + string.Join(", ", RouteIds));
        }

        if (Methods.Count > 0)
        {
            parts.Add("methods " + string.Join(", ", Methods));
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
}
