namespace GrpcPlugins.Host.Routes;

/// <summary>
/// Normalises the path a plugin route receives. Kestrel has already resolved
/// "." and ".." segments, so a request can never climb out of /plugins/{id};
/// what remains to refuse is what Kestrel leaves encoded: slashes and
/// backslashes that would mean something else to the plugin.
/// </summary>
internal static class PluginPath
{
    /// <summary>The path relative to the plugin's prefix, starting with "/", or null with a reason.</summary>
    public static string? Normalise(string? rest, out string? error)
    {
        var path = "/" + (rest ?? string.Empty);
        if (path.Contains("%2f", StringComparison.OrdinalIgnoreCase) || path.Contains("%5c", StringComparison.OrdinalIgnoreCase) || path.Contains('\\', StringComparison.Ordinal))
        {
            error = "encoded slashes and backslashes are not allowed in plugin paths";
            return null;
        }

        var segments = path.Split('/');
        if (segments.Any(s => s is "." or ".." || s.Contains('\0', StringComparison.Ordinal)))
        {
            error = "'.' and '..' segments are not allowed in plugin paths";
            return null;
        }

        // Collapse repeated slashes so "//ping" and "/ping" are the same route.
        error = null;
        return "/" + string.Join('/', segments.Where(s => s.Length > 0));
    }
}
