using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Host.Registry;

/// <summary>Compares what a worker says in Describe with its manifest: one source of truth, or a refusal showing both values.</summary>
internal static class DescribeCheck
{
    public static IReadOnlyList<string> Compare(PluginManifest manifest, DescribeResponse described)
    {
        var errors = new List<string>();
        if (described.Id != manifest.Id)
        {
            errors.Add($"id: manifest says '{manifest.Id}', Describe says '{described.Id}'");
        }

        if (described.Version != manifest.Version)
        {
            errors.Add($"version: manifest says '{manifest.Version}', Describe says '{described.Version}'");
        }

        var declared = manifest.Hooks.Select(h => h.Point).Order(StringComparer.Ordinal).ToList();
        var handled = described.Hooks.Select(h => h.Point).Order(StringComparer.Ordinal).ToList();
        if (!declared.SequenceEqual(handled))
        {
            errors.Add($"hooks: manifest says [{string.Join(", ", declared)}], Describe says [{string.Join(", ", handled)}]");
        }

        // A match in Describe must be the manifest's (the host routes by the manifest's, which an
        // admin reads before the plugin runs); a plugin that says none leaves it to the manifest.
        foreach (var hook in described.Hooks.Where(h => h.Match is not null))
        {
            var saidByPlugin = Hooks.HookMatch.From(hook.Match);
            var manifestHook = manifest.Hooks.FirstOrDefault(h => h.Point == hook.Point);
            if (manifestHook is not null && !manifestHook.Match.Equals(saidByPlugin))
            {
                errors.Add($"hooks: '{hook.Point}' match: manifest says {Shown(manifestHook.Match)}, Describe says {Shown(saidByPlugin)}; write the same in the manifest's hook as \"match\"");
            }
        }

        foreach (var route in described.Routes.Where(r => r.AllowAnonymous))
        {
            if (!manifest.IsAnonymous(route.Method, route.Path))
            {
                errors.Add($"routes: Describe asks for anonymous access to {route.Method} {route.Path}, which the manifest does not declare anonymous");
            }
        }

        return errors;
    }

    private static string Shown(Hooks.HookMatch match) => match.IsAny ? "every call" : $"'{match.Describe()}'";
}
