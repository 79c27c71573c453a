using GrpcPlugins.Sdk;

namespace GrpcPlugins.PluginWorker.Loading;

/// <summary>Finds and creates the one <see cref="IPlugin"/> in a plugin assembly.</summary>
internal static class PluginActivator
{
    /// <summary>Loads <paramref name="assemblyPath"/> in its own context and creates its plugin; null with an error that says what to fix.</summary>
    public static IPlugin? Create(string assemblyPath, out string? error)
    {
        if (!File.Exists(assemblyPath))
        {
            error = $"plugin assembly '{assemblyPath}' does not exist; check the manifest's 'assembly'.";
            return null;
        }

        var context = new PluginLoadContext(Path.GetFullPath(assemblyPath));
        var assembly = context.LoadFromAssemblyPath(Path.GetFullPath(assemblyPath));
        var candidates = assembly.GetTypes()
            .Where(t => typeof(IPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            .ToList();
        if (candidates.Count != 1)
        {
            error = candidates.Count == 0
                ? $"'{assemblyPath}' has no class implementing {nameof(IPlugin)} with a public parameterless constructor."
                : $"'{assemblyPath}' has {candidates.Count} {nameof(IPlugin)} classes ({string.Join(", ", candidates.Select(c => c.FullName))}); keep one per assembly.";
            return null;
        }

        error = null;
        return (IPlugin)Activator.CreateInstance(candidates[0])!;
    }
}
