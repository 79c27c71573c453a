using System.Globalization;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// A file listing the workers this host runs (pid, kernel start time, plugin and
/// temp directory), the backstop against orphans: if the host dies before its
/// workers notice their closed stdin, the next start reaps whatever is still
/// listed, and the runtime files a killed .NET worker cannot remove. The start
/// time makes sure a pid the kernel has since reused is never killed.
/// </summary>
internal sealed class WorkerLedger(string path)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, (RuntimeLeftovers Worker, string PluginId)> _entries = [];

    public string Path { get; } = path;

    /// <param name="worker">The worker's pid, start time and temp directory, as read at its spawn.</param>
    /// <param name="pluginId">Its plugin.</param>
    public void Add(RuntimeLeftovers worker, string pluginId)
    {
        lock (_lock)
        {
            _entries[worker.Pid] = (worker, pluginId);
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

    /// <summary>
    /// Kills the process groups of a previous run's workers that still run, and removes the
    /// runtime files their kill leaves; returns what it reaped.
    /// </summary>
    public IReadOnlyList<ReapedWorker> ReapLeftovers()
    {
        var reaped = new List<ReapedWorker>();
        if (!File.Exists(Path))
        {
            return reaped;
        }

        foreach (var line in File.ReadAllLines(Path))
        {
            // A ledger written before the temp directory was kept has three fields: the host's temp directory was the worker's too.
            var parts = line.Split(' ', 4);
            if (parts.Length < 3 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var start))
            {
                continue;
            }

            if (pid > 1 && ProcessStartTime.Read(pid) == start)
            {
                ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
                var temp = parts.Length == 4 ? parts[3] : RuntimeLeftovers.HostTempDirectory;
                reaped.Add(new ReapedWorker(pid, parts[2], new RuntimeLeftovers(temp, pid, start).Remove()));
            }
        }

        File.Delete(Path);
        return reaped;
    }

    private void Save()
    {
        var temp = Path + ".tmp";
        File.WriteAllLines(temp, _entries.Values.Select(e => $"{e.Worker.Pid} {e.Worker.StartTime} {e.PluginId} {e.Worker.Directory}"));
        File.Move(temp, Path, overwrite: true);
    }
}
