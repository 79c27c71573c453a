namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// The host's private runtime directory (mode 0700): its callback socket and one
/// socket directory per worker. Removed when the host stops.
/// </summary>
internal sealed class HostRuntimeDirectory : IDisposable
{
    public HostRuntimeDirectory(Microsoft.Extensions.Options.IOptions<PluginHostOptions> hostOptions, TimeProvider time)
    {
        var options = hostOptions.Value;
        var parent = options.RuntimeDirectory
            ?? new[] { Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), System.IO.Path.GetTempPath() }
                .FirstOrDefault(d => d is { Length: > 0 } && Directory.Exists(d) && FitsSocketPaths(d))
            ?? "/tmp";
        // A PluginHost:RuntimeDirectory that is not there yet is made (its owner's alone, as it holds sockets).
        Directory.CreateDirectory(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        RemoveStale(parent, time.GetUtcNow().UtcDateTime);
        Path = System.IO.Path.Combine(parent, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _held = HeldFileLock.TryTake(LockFileIn(Path));
    }

    private const string Prefix = "gph-";

    // A directory without a lock file is a host's of a version before the lock, or one created
    // an instant ago whose lock comes next: only the first may go, and only once this old.
    private static readonly TimeSpan s_unlockedGrace = TimeSpan.FromSeconds(30);

    private HeldFileLock? _held;

    /// <summary>
    /// The longest parent directory, in bytes, under which every socket path stays within
    /// the 107 bytes a Unix socket path may have: "/gph-{pid}-{6}" (up to 19), a worker's
    /// "/{id, at most 24}-{8}" (34) and "/plugin.sock" (12) leave 42.
    /// </summary>
    public const int MaxParentBytes = 42;

    /// <summary>Whether sockets under <paramref name="directory"/> keep within the Unix socket path limit.</summary>
    public static bool FitsSocketPaths(string directory) =>
        System.Text.Encoding.UTF8.GetByteCount(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(directory))) <= MaxParentBytes;

    public string Path { get; }

    private static string LockFileIn(string directory) => System.IO.Path.Combine(directory, "host.lock");

    /// <summary>
    /// A host killed by SIGKILL leaves its runtime directory behind; the next host removes those
    /// whose host is gone. A live host holds the lock in its directory, which is what tells: the
    /// pid in a directory's name says nothing of a host in another pid namespace (another
    /// container sharing /tmp), which has none here or another process's.
    /// </summary>
    private static void RemoveStale(string parent, DateTime now)
    {
        foreach (var directory in Directory.EnumerateDirectories(parent, Prefix + "*"))
        {
            if (IsStale(directory, now))
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

    private static bool IsStale(string directory, DateTime now)
    {
        try
        {
            if (File.Exists(LockFileIn(directory)))
            {
                return !HeldFileLock.IsHeld(LockFileIn(directory));
            }
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's: not ours to judge or remove.
            return false;
        }

        var name = System.IO.Path.GetFileName(directory)[Prefix.Length..];
        var dash = name.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && int.TryParse(name[..dash], out var pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}")
            && now - Directory.GetLastWriteTimeUtc(directory) > s_unlockedGrace;
    }

    /// <summary>The host's callback socket, where workers reach the PluginHost service.</summary>
    public string CallbackSocket => System.IO.Path.Combine(Path, "host.sock");

    /// <summary>
    /// Makes the directory again, with its lock, after something removed it under the running
    /// host (a cleaner, an admin's rm, the end of the login session that held $XDG_RUNTIME_DIR).
    /// </summary>
    public void Restore()
    {
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!File.Exists(LockFileIn(Path)))
        {
            _held?.Dispose();
            _held = HeldFileLock.TryTake(LockFileIn(Path));
        }
    }

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

        // Let go once the directory is gone, so no host takes it for a stale one while it is removed.
        _held?.Dispose();
    }
}
