namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// The host's private runtime directory (mode 0700): its callback socket and one
/// socket directory per worker. Removed when the host stops.
/// </summary>
internal sealed class HostRuntimeDirectory : IDisposable
{
    public HostRuntimeDirectory(Microsoft.Extensions.Options.IOptions<PluginHostOptions> hostOptions)
    {
        var options = hostOptions.Value;
        var parent = options.RuntimeDirectory
            ?? (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg && Directory.Exists(xdg) ? xdg : System.IO.Path.GetTempPath());
        RemoveStale(parent);
        Path = System.IO.Path.Combine(parent, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private const string Prefix = "gph-";

    public string Path { get; }

    /// <summary>A host killed by SIGKILL leaves its runtime directory behind; the next host removes those whose process is gone.</summary>
    private static void RemoveStale(string parent)
    {
        foreach (var directory in Directory.EnumerateDirectories(parent, Prefix + "*"))
        {
            var name = System.IO.Path.GetFileName(directory)[Prefix.Length..];
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(name[..dash], out var pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Another user's or a racing host's: not ours to remove.
                }
            }
        }
    }

    /// <summary>The host's callback socket, where workers reach the PluginHost service.</summary>
    public string CallbackSocket => System.IO.Path.Combine(Path, "host.sock");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }
}
