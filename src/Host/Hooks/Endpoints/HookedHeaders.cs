using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Hooks.Endpoints;

/// <summary>
/// The headers a hook point offers plugins, and what the plugins' answer changes:
/// one predicate decides both, so a header plugins may not see they may not set.
/// </summary>
internal static class HookedHeaders
{
    /// <summary>The allowed headers, lower-case names, several values joined as HTTP joins them.</summary>
    public static Dictionary<string, string> Offer(IHeaderDictionary headers, Func<string, bool> allowed)
    {
        var offered = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            if (allowed(name))
            {
                offered[name.ToLowerInvariant()] = values.ToString();
            }
        }

        return offered;
    }

    /// <summary>
    /// Sets what the plugins set and removes what they removed; a header they may
    /// not touch is left as it was and returned, so the caller can say so.
    /// </summary>
    public static IReadOnlyList<string> Apply(IHeaderDictionary headers, IReadOnlyDictionary<string, string> offered, IReadOnlyDictionary<string, string> answered, Func<string, bool> allowed)
    {
        List<string>? refused = null;
        foreach (var (name, value) in answered)
        {
            if (offered.TryGetValue(name, out var before) && before == value)
            {
                continue;
            }

            if (!allowed(name))
            {
                (refused ??= []).Add(name);
                continue;
            }

            headers[name] = value;
        }

        foreach (var name in offered.Keys)
        {
            if (!answered.ContainsKey(name))
            {
                headers.Remove(name);
            }
        }

        return refused ?? (IReadOnlyList<string>)[];
    }
}
