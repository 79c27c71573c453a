namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// A plugin's own writable directory (a driver's cache, a downloaded schema, a local index),
/// under the host's state directory rather than the plugin's folder, which an upgrade
/// replaces: it outlives restarts and upgrades, and goes only with the plugin's settings.
/// </summary>
internal static class PluginDataDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static string PathFor(PluginHostOptions options, string pluginId) =>
        Path.GetFullPath(Path.Combine(options.StateDirectory, "data", pluginId));

    /// <summary>Creates it if needed, for its owner alone (it may hold a tenant's data), and returns its path.</summary>
    public static string Ensure(PluginHostOptions options, string pluginId)
    {
        var path = PathFor(options, pluginId);
        Directory.CreateDirectory(path, OwnerOnly);
        return path;
    }

    /// <summary>
    /// Removes everything in it and keeps the directory, as an admin does to bring back a plugin
    /// halted over its data limit; returns the bytes it held. Only while no worker of the plugin runs.
    /// </summary>
    public static long Empty(PluginHostOptions options, string pluginId)
    {
        var path = PathFor(options, pluginId);
        var held = Supervisor.Limits.DirectoryUsage.Measure(path);
        var directory = new DirectoryInfo(path);
        if (!directory.Exists)
        {
            return 0;
        }

        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            // A link is removed, never followed: what it points at is not the plugin's.
            if (entry is DirectoryInfo { LinkTarget: null } child)
            {
                child.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }

        return held;
    }

    /// <summary>Removes it with everything in it, as an uninstall that does not keep the plugin's settings does.</summary>
    public static void Delete(PluginHostOptions options, string pluginId)
    {
        var path = PathFor(options, pluginId);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
