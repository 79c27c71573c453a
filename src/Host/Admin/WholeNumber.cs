using System.Globalization;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// A whole number the admin API takes from a query string or a path segment, read in the handler rather
/// than bound: a binding failure answers a bare 400 (or, with a route constraint, a 404) that says nothing.
/// </summary>
internal static class WholeNumber
{
    /// <summary>
    /// False only when <paramref name="text"/> is given but is not a whole number of digits (no sign, no
    /// spaces); left out or empty, it reads as no value.
    /// </summary>
    public static bool TryRead(string? text, out long? value)
    {
        value = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        value = number;
        return true;
    }
}
