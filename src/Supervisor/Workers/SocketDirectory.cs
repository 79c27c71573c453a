namespace GrpcPlugins.Supervisor.Workers;

/// <summary>A worker's private socket directory (mode 0700), removed with everything in it on dispose.</summary>
internal sealed class SocketDirectory : IDisposable
{
    private SocketDirectory(string path) => Path = path;

    public string Path { get; }

    public static SocketDirectory Create(string parent, string pluginId)
    {
        // Unix socket paths are limited to 107 bytes, so the name stays short.
        var name = $"{Shorten(pluginId)}-{Guid.NewGuid().ToString("N")[..8]}";
        var path = System.IO.Path.Combine(parent, name);
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new SocketDirectory(path);
    }

    /// <summary>True when <paramref name="socketPath"/> lies directly inside this directory.</summary>
    public bool Contains(string socketPath) =>
        string.Equals(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(socketPath)), Path, StringComparison.Ordinal);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone: nothing to clean.
        }
    }

    private static string Shorten(string id) => id.Length <= 24 ? id : id[..24];
}
