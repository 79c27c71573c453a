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
        Path = System.IO.Path.Combine(parent, $"gph-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Path { get; }

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
