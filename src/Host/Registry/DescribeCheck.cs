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

        foreach (var route in described.Routes.Where(r => r.AllowAnonymous))
        {
            if (!manifest.IsAnonymous(route.Method, route.Path))
            {
                errors.Add($"routes: Describe asks for anonymous access to {route.Method} {route.Path}, which the manifest does not declare anonymous");
            }
        }

        return errors;
    }
}
