namespace GrpcPlugins.Sdk;

/// <summary>A request to one of the plugin's routes, with its body streamed.</summary>
public sealed class RouteRequest
{
    private Dictionary<string, Microsoft.Extensions.Primitives.StringValues>? _query;

    internal RouteRequest(string method, string path, IReadOnlyDictionary<string, string> routeValues, string query, IReadOnlyList<KeyValuePair<string, string>> headers, string user, Stream body)
    {
        Method = method;
        Path = path;
        RouteValues = routeValues;
        Query = query;
        Headers = headers;
        User = user;
        Body = body;
    }

    /// <summary>The HTTP method, upper case.</summary>
    public string Method { get; }

    /// <summary>The path relative to the plugin's prefix, normalised, starting with "/".</summary>
    public string Path { get; }

    /// <summary>
    /// What the route's "{name}" segments matched, by name: for the route "/items/{id}",
    /// the request "/items/42" has <c>RouteValues["id"] == "42"</c>. Empty for a route without parameters.
    /// </summary>
    public IReadOnlyDictionary<string, string> RouteValues { get; }

    /// <summary>The query string including its "?", or empty.</summary>
    public string Query { get; }

    /// <summary>The headers the host let through, with lower-case names; a name may repeat.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The authenticated caller's name, or empty for an anonymous route.</summary>
    public string User { get; }

    /// <summary>
    /// The tenant the host resolved for this request, or empty when it resolves none (a host
    /// older than this field sends none either): the key to that tenant's settings.
    /// </summary>
    public string TenantId { get; internal init; } = string.Empty;

    /// <summary>The body, read as it arrives: a large upload is never held whole in memory.</summary>
    public Stream Body { get; }

    /// <summary>The first value of query parameter <paramref name="name"/>, decoded ("a b" for "?q=a+b"), or null when absent.</summary>
    public string? QueryValue(string name)
    {
        _query ??= Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Query);
        return _query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
    }

    /// <summary>The first value of header <paramref name="name"/>, or null.</summary>
    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }
}
