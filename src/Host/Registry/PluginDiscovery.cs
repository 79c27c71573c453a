namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Finds plugin folders in the plugins directory. Folders are read in ordinal
/// order of their names; when two declare the same id, the first wins and the
/// second is refused with a reason naming both folders.
/// </summary>
internal static class PluginDiscovery
{
    /// <summary>A discovered folder: a valid manifest, or the errors that refuse it.</summary>
    internal sealed record Found(string Id, string Folder, PluginManifest? Manifest, IReadOnlyList<string> Errors);

    public static IReadOnlyList<Found> Discover(string pluginsDirectory)
    {
        if (!Directory.Exists(pluginsDirectory))
        {
            return [];
        }

        var found = new List<Found>();
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        // Folders whose names start with a dot are not plugins (an install in progress, editor or VCS folders).
        foreach (var folder in Directory.GetDirectories(pluginsDirectory).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal))
        {
            var manifest = ManifestReader.Read(folder, out var errors);
            var id = manifest?.Id ?? Path.GetFileName(folder);
            if (manifest is not null && byId.TryGetValue(manifest.Id, out var winner))
            {
                found.Add(new Found(id + "@" + Path.GetFileName(folder), folder, manifest, [$"duplicate id '{manifest.Id}': already declared by {winner}, which wins (folders are read in ordinal order of their names). Give this plugin another id or remove one folder."]));
                continue;
            }

            if (manifest is not null)
            {
                byId[manifest.Id] = folder;
            }

            found.Add(new Found(id, folder, manifest, errors));
        }

        return found;
    }
}
