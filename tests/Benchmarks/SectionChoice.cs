namespace GrpcPlugins.Benchmarks;

/// <summary>
/// Which sections a run takes: <c>make bench</c> alone runs those that measure issue 8's
/// targets, in a few minutes; <c>ONLY=all</c> every section; <c>ONLY=routes,cold</c> the ones named.
/// </summary>
internal static class SectionChoice
{
    /// <summary>Every section in the order a run takes them, and whether it is one of the targets' (run by default).</summary>
    public static readonly IReadOnlyList<(string Name, bool Target)> Sections =
    [
        ("hooks", true), ("routes", true), ("routeparts", false), ("endpoint", false), ("ab", false), ("spinner", false),
        ("transfer", false), ("attached", false), ("websocket", false), ("settings", false), ("replicas", false),
        ("restart", true), ("cold", true), ("hoststart", false), ("soak", false), ("polyglot", true),
        ("memory", false), ("chain", true), ("many", true),
    ];

    /// <summary>The sections <paramref name="only"/> names (comma-separated; empty for the targets', "all" for all), or what is wrong with it.</summary>
    public static (HashSet<string>? Chosen, string? Error) Parse(string? only)
    {
        if (string.IsNullOrWhiteSpace(only))
        {
            return ([.. Sections.Where(s => s.Target).Select(s => s.Name)], null);
        }

        var names = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names is ["all"])
        {
            return ([.. Sections.Select(s => s.Name)], null);
        }

        var unknown = names.Where(n => !Sections.Any(s => s.Name == n)).ToList();
        return unknown.Count > 0
            ? (null, $"no section named {string.Join(", ", unknown)}: ONLY takes \"all\" or some of {string.Join(", ", Sections.Select(s => s.Name))}, comma-separated")
            : ([.. names], null);
    }
}
