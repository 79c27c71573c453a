using NuGet.Versioning;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Orders plugins so that a dependency starts before its dependents, and
/// refuses, each with its reason: a missing dependency, a version outside the
/// range, a cycle, and the dependents of a refused plugin.
/// </summary>
internal static class DependencyResolver
{
    /// <summary>
    /// The refusals a change to the installed set would cause that the set does not
    /// have now: checked before an install, upgrade or uninstall at runtime, so that
    /// a change which would leave a running plugin without what it depends on (at
    /// its next start) is refused while the admin can still choose otherwise.
    /// </summary>
    public static IReadOnlyDictionary<string, string> RefusalsCausedBy(IReadOnlyList<PluginManifest> installed, IReadOnlyList<PluginManifest> changed)
    {
        var now = Resolve(installed).Refused;
        return Resolve(changed).Refused
            .Where(r => !now.ContainsKey(r.Key))
            .ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
    }

    /// <summary>The start order, and the refusals by plugin id.</summary>
    public static (IReadOnlyList<PluginManifest> Order, IReadOnlyDictionary<string, string> Refused) Resolve(IReadOnlyList<PluginManifest> manifests)
    {
        var byId = manifests.ToDictionary(m => m.Id, StringComparer.Ordinal);
        var refused = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var manifest in manifests)
        {
            foreach (var dependency in manifest.Dependencies)
            {
                if (!byId.TryGetValue(dependency.Id, out var found))
                {
                    refused.TryAdd(manifest.Id, $"depends on '{dependency.Id}' {dependency.Versions.PrettyPrint()}, which is not installed. Install it, or remove the dependency.");
                }
                else if (!NuGetVersion.TryParse(found.Version, out var version) || !dependency.Versions.Satisfies(version))
                {
                    refused.TryAdd(manifest.Id, $"depends on '{dependency.Id}' {dependency.Versions.PrettyPrint()}, but {found.Version} is installed. Install a version in that range.");
                }
            }
        }

        var order = new List<PluginManifest>();
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false: visiting, true: done
        foreach (var manifest in manifests.OrderBy(m => m.Id, StringComparer.Ordinal))
        {
            Visit(manifest, []);
        }

        // Dependents of a refused plugin are refused too, transitively.
        bool changed;
        do
        {
            changed = false;
            foreach (var manifest in manifests.Where(m => !refused.ContainsKey(m.Id)))
            {
                if (manifest.Dependencies.FirstOrDefault(d => refused.ContainsKey(d.Id)) is { } bad)
                {
                    refused[manifest.Id] = $"depends on '{bad.Id}', which was refused: {refused[bad.Id]}";
                    changed = true;
                }
            }
        }
        while (changed);

        return ([.. order.Where(m => !refused.ContainsKey(m.Id))], refused);

        void Visit(PluginManifest manifest, List<string> path)
        {
            if (state.TryGetValue(manifest.Id, out var done))
            {
                if (!done)
                {
                    var cycle = path.SkipWhile(id => id != manifest.Id).Append(manifest.Id).ToList();
                    foreach (var id in cycle)
                    {
                        refused.TryAdd(id, $"dependency cycle: {string.Join(" → ", cycle)}. Break the cycle in one of the manifests.");
                    }
                }

                return;
            }

            state[manifest.Id] = false;
            path.Add(manifest.Id);
            foreach (var dependency in manifest.Dependencies)
            {
                if (byId.TryGetValue(dependency.Id, out var next))
                {
                    Visit(next, path);
                }
            }

            path.RemoveAt(path.Count - 1);
            state[manifest.Id] = true;
            order.Add(manifest);
        }
    }
}
