using System.Globalization;
using GrpcPlugins.Protocol;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// A file listing the workers this host runs (pid, kernel start time, plugin, a
/// digest of its token and temp directory), the backstop against orphans: if the
/// host dies before its workers notice their closed stdin, the next start reaps
/// whatever is still listed, and the runtime files a killed .NET worker cannot
/// remove. The start time makes sure a pid the kernel has since reused is never
/// killed. The digest finds the helpers a worker started in sessions of their own,
/// which outlive it whether or not it was still running: the token itself is kept
/// nowhere, since an orphan that still runs would take it.
/// </summary>
internal sealed class WorkerLedger(string path)
{
    private readonly Lock _lock = new();
    private const string DigestPrefix = "sha256:";
    private readonly Dictionary<int, (RuntimeLeftovers Worker, string PluginId, string? TokenDigest)> _entries = [];

    public string Path { get; } = path;

    /// <param name="worker">The worker's pid, start time and temp directory, as read at its spawn.</param>
    /// <param name="pluginId">Its plugin.</param>
    /// <param name="token">The token in its environment (<see cref="HandshakeEnvironment.Token"/>), which its helpers inherit; null when it has none.</param>
    public void Add(RuntimeLeftovers worker, string pluginId, string? token = null)
    {
        lock (_lock)
        {
            _entries[worker.Pid] = (worker, pluginId, token is null ? null : ProcessEnvironment.Digest(HandshakeEnvironment.Token, token));
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
    /// runtime files their kill leaves; then the helpers any listed worker left, running or not.
    /// Returns what it reaped.
    /// </summary>
    public LedgerReaping ReapLeftovers()
    {
        var reaped = new List<ReapedWorker>();
        if (!File.Exists(Path))
        {
            return new LedgerReaping(reaped, []);
        }

        var digests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path))
        {
            // Before tokens' digests were kept an entry had no "sha256:" field, and before the temp
            // directory was kept it had three fields: the host's temp directory was the worker's too.
            var parts = line.Split(' ', 4);
            if (parts.Length < 3 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var start))
            {
                continue;
            }

            var temp = parts.Length == 4 ? parts[3] : RuntimeLeftovers.HostTempDirectory;
            if (temp.StartsWith(DigestPrefix, StringComparison.Ordinal))
            {
                var rest = temp.Split(' ', 2);
                digests.Add(rest[0][DigestPrefix.Length..]);
                temp = rest.Length == 2 ? rest[1] : RuntimeLeftovers.HostTempDirectory;
            }

            if (pid > 1 && ProcessStartTime.Read(pid) == start)
            {
                ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
                reaped.Add(new ReapedWorker(pid, parts[2], new RuntimeLeftovers(temp, pid, start).Remove()));
            }
        }

        // After the workers: a worker still running could start another helper while they are looked for.
        var helpers = digests.Count == 0 ? [] : EscapedHelpers.Kill(environment => ProcessEnvironment.HoldsDigest(environment, HandshakeEnvironment.Token, digests));
        File.Delete(Path);
        return new LedgerReaping(reaped, helpers);
    }

    private void Save()
    {
        var temp = Path + ".tmp";
        File.WriteAllLines(temp, _entries.Values.Select(e => e.TokenDigest is null
            ? $"{e.Worker.Pid} {e.Worker.StartTime} {e.PluginId} {e.Worker.Directory}"
            : $"{e.Worker.Pid} {e.Worker.StartTime} {e.PluginId} {DigestPrefix}{e.TokenDigest} {e.Worker.Directory}"));
        File.Move(temp, Path, overwrite: true);
    }
}
