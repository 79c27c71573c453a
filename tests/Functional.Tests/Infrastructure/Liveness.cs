namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// Whether a process still runs. A zombie has exited: it only waits for its
/// parent (init, for an orphan) to reap it, which in some sandboxes takes a second.
/// </summary>
internal static class Liveness
{
    public static bool IsAlive(int pid) => State(pid) is { } state && state is not ('Z' or 'X');

    /// <summary>True when any live process belongs to the process group <paramref name="groupId"/>.</summary>
    public static bool GroupAlive(int groupId) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Any(pid => pid > 0 && Group(pid) == groupId && IsAlive(pid));

    private static char? State(int pid)
    {
        var stat = Read(pid);
        return stat is null ? null : stat[stat.LastIndexOf(')') + 2];
    }

    /// <summary>The process group of <paramref name="pid"/>, or -1 when it is gone.</summary>
    public static int Group(int pid)
    {
        var stat = Read(pid);
        return stat is null ? -1 : int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? Read(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
