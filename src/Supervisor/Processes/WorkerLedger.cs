using System.Globalization;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// A file listing the workers this host runs (pid and kernel start time), the
/// backstop against orphans: if the host dies before its workers notice their
/// closed stdin, the next start reaps whatever is still listed. The start time
/// makes sure a pid the kernel has since reused is never killed.
/// </summary>
internal sealed class WorkerLedger(string path)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, (long StartTime, string PluginId)> _entries = [];

    public string Path { get; } = path;

    public void Add(int pid, string pluginId)
    {
        var start = ReadStartTime(pid);
        if (start is null)
        {
            return;
        }

        lock (_lock)
        {
            _entries[pid] = (start.Value, pluginId);
            Save();
        }
    }

    public void Remove(int pid)
    {
        lock (_lock)
        {
            if (_entries.Remove(pid))
            {
                Save();
            }
        }
    }

    /// <summary>Kills the process groups of a previous run's workers that still run; returns what it reaped.</summary>
    public IReadOnlyList<(int Pid, string PluginId)> ReapLeftovers()
    {
        var reaped = new List<(int, string)>();
        if (!File.Exists(Path))
        {
            return reaped;
        }

        foreach (var line in File.ReadAllLines(Path))
        {
            var parts = line.Split(' ', 3);
            if (parts.Length != 3 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var start))
            {
                continue;
            }

            if (pid > 1 && ReadStartTime(pid) == start)
            {
                ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
                reaped.Add((pid, parts[2]));
            }
        }

        File.Delete(Path);
        return reaped;
    }

    private void Save()
    {
        var temp = Path + ".tmp";
        File.WriteAllLines(temp, _entries.Select(e => $"{e.Key} {e.Value.StartTime} {e.Value.PluginId}"));
        File.Move(temp, Path, overwrite: true);
    }

    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or null if it is gone.</summary>
    internal static long? ReadStartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // Fields after "(comm)" start at field 3, so field 22 is index 19.
            return long.TryParse(fields[19], CultureInfo.InvariantCulture, out var start) ? start : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
