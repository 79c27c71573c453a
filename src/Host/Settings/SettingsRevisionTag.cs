using Microsoft.Extensions.Primitives;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// A settings revision as an HTTP entity tag ("3"), so two admins editing the
/// same settings find out at the second write (If-Match → 412) instead of one
/// silently undoing the other.
/// </summary>
internal static class SettingsRevisionTag
{
    public static string Format(long revision) => $"\"{revision}\"";

    /// <summary>The revision an If-Match names (null when absent); false when it is not a tag this host gave.</summary>
    public static bool TryParse(StringValues ifMatch, out long? revision)
    {
        revision = null;
        if (StringValues.IsNullOrEmpty(ifMatch))
        {
            return true;
        }

        var text = ifMatch.ToString().Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        if (text.Length < 3 || text[0] != '"' || text[^1] != '"' || !long.TryParse(text.AsSpan(1, text.Length - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
        {
            return false;
        }

        revision = parsed;
        return true;
    }
}
