namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// The processes a worker started that left its process group: a helper daemon that made a
/// session of its own (setsid, a double fork), as native drivers' agents do, which killing the
/// worker's group does not reach. Each carries the worker's token in its environment, since
/// every process inherits its parent's, so they are found by it after the worker is gone
/// and killed: no process of a plugin outlives its worker.
/// </summary>
internal static class EscapedHelpers
{
    // A helper that forks as it is killed is looked for again, a bounded number of times.
    private const int Rounds = 5;

    /// <summary>Kills every process whose environment holds <paramref name="variable"/>=<paramref name="value"/>; returns their pids.</summary>
    public static IReadOnlyList<int> Kill(string variable, string value)
    {
        var entry = ProcessEnvironment.Entry(variable, value);
        return Kill(environment => ProcessEnvironment.Holds(environment, entry));
    }

    /// <summary>Kills every process whose environment <paramref name="holds"/> says is one; returns their pids.</summary>
    public static IReadOnlyList<int> Kill(Func<byte[], bool> holds)
    {
        var killed = new List<int>();
        for (var round = 0; round < Rounds; round++)
        {
            var found = Find(holds).Where(pid => !killed.Contains(pid)).ToList();
            if (found.Count == 0)
            {
                break;
            }

            foreach (var pid in found)
            {
                ProcessSignals.SignalProcess(pid, ProcessSignals.SigKill);
                killed.Add(pid);
            }
        }

        return killed;
    }

    /// <summary>The pids (other than this process) whose environment holds the variable with that value.</summary>
    public static IReadOnlyList<int> Find(string variable, string value)
    {
        var entry = ProcessEnvironment.Entry(variable, value);
        return Find(environment => ProcessEnvironment.Holds(environment, entry));
    }

    private static List<int> Find(Func<byte[], bool> holds)
    {
        var found = new List<int>();
        IEnumerable<string> processes;
        try
        {
            processes = Directory.EnumerateDirectories("/proc");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return found;
        }

        foreach (var directory in processes)
        {
            // One already killed (its group's kill, a round before) is no helper still running.
            if (int.TryParse(Path.GetFileName(directory), out var pid) && pid != Environment.ProcessId
                && ProcessEnvironment.Read(pid) is { } environment && holds(environment) && !DyingProcess.IsDying(pid))
            {
                found.Add(pid);
            }
        }

        return found;
    }
}
