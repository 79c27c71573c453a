namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// The files a .NET runtime keeps in its temp directory while it runs: its diagnostic
/// socket and its debugger's two pipes, named by its pid and start time. The runtime
/// removes them as it exits; killed (a memory limit, a stop past its grace, a signal)
/// it cannot, and a host that kills .NET workers for months would fill its temp
/// directory with their sockets. No other program takes these names, so removing them
/// after any worker's exit is harmless.
/// </summary>
internal sealed record RuntimeLeftovers(string Directory, int Pid, long StartTime)
{
    private const string TempVariable = "TMPDIR";

    /// <summary>The names a worker's runtime would leave, or null when the process is already gone.</summary>
    /// <param name="pid">The worker's pid, read while it runs (or waits to be reaped).</param>
    /// <param name="environment">What the worker's environment sets or removes over the host's.</param>
    public static RuntimeLeftovers? Of(int pid, IReadOnlyDictionary<string, string?> environment) =>
        ProcessStartTime.Read(pid) is { } start ? new RuntimeLeftovers(TempDirectoryOf(environment), pid, start) : null;

    /// <summary>The host's own temp directory: a worker's whose environment leaves TMPDIR as the host has it.</summary>
    public static string HostTempDirectory => TempDirectoryOf(new Dictionary<string, string?>());

    /// <summary>The temp directory a worker's runtime uses, as it chooses it: TMPDIR when set and not empty, else /tmp.</summary>
    /// <param name="environment">What the worker's environment sets or removes over the host's.</param>
    public static string TempDirectoryOf(IReadOnlyDictionary<string, string?> environment)
    {
        var value = environment.TryGetValue(TempVariable, out var set) ? set : Environment.GetEnvironmentVariable(TempVariable);
        return string.IsNullOrEmpty(value) ? "/tmp" : value;
    }

    public IReadOnlyList<string> Paths =>
    [
        Path.Combine(Directory, $"dotnet-diagnostic-{Pid}-{StartTime}-socket"),
        Path.Combine(Directory, $"clr-debug-pipe-{Pid}-{StartTime}-in"),
        Path.Combine(Directory, $"clr-debug-pipe-{Pid}-{StartTime}-out"),
    ];

    /// <summary>Removes whichever of the files remain; returns what could not be removed, or null.</summary>
    public string? Remove()
    {
        List<string>? failures = null;
        foreach (var path in Paths)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                (failures ??= []).Add($"{path}: {ex.Message}");
            }
        }

        return failures is null ? null : string.Join("; ", failures);
    }
}
