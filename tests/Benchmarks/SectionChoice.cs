using GrpcPlugins.Benchmarks.Sections;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// Which sections a run takes: <c>make bench</c> alone runs those that measure issue 8's
/// targets, in a few minutes; <c>ONLY=all</c> every section; <c>ONLY=routes,cold</c> the ones named.
/// </summary>
internal static class SectionChoice
{
    /// <summary>
    /// Every section in the order a run takes them, whether it is one of the targets' (run by
    /// default), and how it runs alone; the four without are run on one host by <see cref="HelloSections"/>.
    /// </summary>
    public static readonly IReadOnlyList<BenchSection> Sections =
    [
        new("hooks", true, null), new("routes", true, null), new("routeparts", false, null), new("endpoint", false, null),
        new("ab", false, AbSection.RunAsync), new("spinner", false, SpinnerSection.RunAsync),
        new("transfer", false, TransfersSection.RunAsync), new("attached", false, AttachedSection.RunAsync),
        new("websocket", false, WebSocketsSection.RunAsync), new("settings", false, SettingsSection.RunAsync),
        new("replicas", false, ReplicasSection.RunAsync), new("restart", true, RestartSection.RunAsync),
        new("cold", true, ColdStartSection.RunAsync), new("hoststart", false, HostStartSection.RunAsync),
        new("soak", false, SoakSection.RunAsync), new("polyglot", true, PolyglotSection.RunAsync),
        new("memory", false, MemorySection.RunAsync), new("chain", true, ChainSection.RunAsync),
        new("many", true, ManySection.RunAsync),
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
