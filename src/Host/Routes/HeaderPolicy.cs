using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace GrpcPlugins.Host.Routes;

/// <summary>
/// Which headers cross the boundary, after YARP's rules: hop-by-hop headers
/// never do; forwarding headers are set by the host, never taken from the
/// client; the host's credentials and cookies stay with the host; a plugin
/// may not set cookies or framing headers on the host's responses, nor
/// headers that act on the host's whole origin.
/// </summary>
internal static class HeaderPolicy
{
    private static readonly HashSet<string> s_hopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "http2-settings",
    };

    private static readonly HashSet<string> s_requestBlocked = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "authorization", "x-api-key", "cookie", "forwarded",
        "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-prefix", "x-real-ip",
        "content-length",
    };

    private static readonly HashSet<string> s_responseBlocked = new(StringComparer.OrdinalIgnoreCase)
    {
        "set-cookie", "content-length", "server", "date", "strict-transport-security", "alt-svc",
        // The origin is the host's: a plugin may not wipe an admin's cookies and storage on it, nor
        // let a service worker of its own take the host's pages.
        "clear-site-data", "service-worker-allowed",
    };

    /// <summary>
    /// The policy every plugin's route response carries beside any of its own (both hold): a page
    /// a plugin serves is on the host's origin, where its script would act with the admin's
    /// cookie; sandboxed without same-origin, it runs as an opaque origin of its own.
    /// <c>PluginHost:SameOriginPlugins</c> names the plugins trusted not to need it.
    /// </summary>
    public const string PluginSandbox = "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads allow-modals";

    /// <summary>The request headers a plugin receives, plus the host's forwarding headers.</summary>
    public static IEnumerable<KeyValuePair<string, string>> ForRequest(HttpRequest request, string pluginPrefix)
    {
        var nominated = ConnectionOptions(request.Headers.Connection);
        foreach (var (name, values) in request.Headers)
        {
            if (!AllowsRequest(name) || (nominated is not null && nominated.Contains(name)))
            {
                continue;
            }

            foreach (var value in values)
            {
                if (value is not null)
                {
                    yield return new(name.ToLowerInvariant(), value);
                }
            }
        }

        var remote = request.HttpContext.Connection.RemoteIpAddress;
        if (remote is not null)
        {
            yield return new("x-forwarded-for", remote.ToString());
        }

        yield return new("x-forwarded-host", request.Host.Value ?? string.Empty);
        yield return new("x-forwarded-proto", request.Scheme);
        yield return new("x-forwarded-prefix", pluginPrefix);
    }

    /// <summary>
    /// The fields a client's <c>Connection</c> header names: hop-by-hop by the client's own word
    /// (RFC 9110, 7.6.1), so a proxy must not pass them on. A client may mark, say, a credential
    /// meant for the host alone this way. Null, the usual case, when it names none beyond the
    /// hop-by-hop fields every request loses anyway (<c>keep-alive</c>, <c>upgrade</c>) or
    /// <c>close</c>: read without allocating, since browsers send <c>Connection: keep-alive</c> with each request.
    /// </summary>
    internal static HashSet<string>? ConnectionOptions(StringValues connection)
    {
        HashSet<string>? options = null;
        var known = s_hopByHop.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var value in connection)
        {
            var rest = (value ?? string.Empty).AsSpan();
            foreach (var range in rest.Split(','))
            {
                var option = rest[range].Trim();
                if (option.Length > 0 && !known.Contains(option) && !option.Equals("close", StringComparison.OrdinalIgnoreCase))
                {
                    (options ??= new(StringComparer.OrdinalIgnoreCase)).Add(option.ToString());
                }
            }
        }

        return options;
    }

    /// <summary>True when a plugin may see and set the request header <paramref name="name"/>.</summary>
    public static bool AllowsRequest(string name) =>
        !s_hopByHop.Contains(name) && !s_requestBlocked.Contains(name) && !name.StartsWith(':');

    /// <summary>True when a plugin may set <paramref name="name"/> on its response.</summary>
    public static bool AllowsResponse(string name) =>
        !s_hopByHop.Contains(name) && !s_responseBlocked.Contains(name) && !name.StartsWith(':');
}
