namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// One worker's own pids cgroup: its thread limit as pids.max, so that the kernel refuses the
/// thread or fork past it, which no pass over /proc can do for a loop forking as fast as it can;
/// what the kernel refused at it; and its removal after the worker exits.
/// </summary>
internal sealed class WorkerPidsCgroup(string path, int limit)
{
    /// <summary>Opens the host's delegated pids directory (<see cref="V1Cgroup.Open"/>).</summary>
    public static V1Cgroup OpenParent(string directory) =>
        V1Cgroup.Open(directory, "pids", "pids.max", "PluginHost:PidsCgroupDirectory", "the thread watchdog still holds every worker to limits.maxThreads");

    /// <summary>Creates the worker's cgroup under <paramref name="parent"/>, with <paramref name="maxTasks"/> (threads and processes alike: the kernel counts tasks) as its pids.max.</summary>
    public static WorkerPidsCgroup Create(V1Cgroup parent, string name, int maxTasks) =>
        new(parent.Create(name, [("pids.max", maxTasks.ToString(System.Globalization.CultureInfo.InvariantCulture))], "set its thread limit"), maxTasks);

    /// <summary>The cgroup's directory.</summary>
    public string Path { get; } = path;

    /// <summary>The tasks (threads and processes) the kernel lets the cgroup hold.</summary>
    public int Limit { get; } = limit;

    /// <summary>Writing a pid here moves that process into the cgroup.</summary>
    public string ProcsFile => System.IO.Path.Combine(Path, "cgroup.procs");

    /// <summary>
    /// The tasks in the cgroup now: every thread of the worker and of whatever it started, in
    /// whichever process group or session; 0 once it is gone.
    /// </summary>
    public int Current => (int)Math.Min(int.MaxValue, CgroupFiles.ReadNumber(System.IO.Path.Combine(Path, "pids.current")));

    /// <summary>How many forks or new threads the kernel refused at <see cref="Limit"/>.</summary>
    public long Refused => CgroupFiles.ReadCounter(System.IO.Path.Combine(Path, "pids.events"), "max");

    /// <summary>
    /// The breach once the kernel refused a thread or a fork at the limit, else null. The kernel
    /// keeps the count at the limit, so a refusal is how the limit shows: the plugin would have
    /// been killed past it by the watchdog, and one that goes on without the thread it wanted
    /// (or crashes for it) is no better.
    /// </summary>
    /// <param name="whom">Whom it refused, for the message: "worker pid 123", "plugin 'p' while it started".</param>
    public LimitBreach? Breach(string whom) => Refused is > 0 and var refused
        ? new LimitBreach(LimitKind.Threads, $"thread limit reached: the kernel refused {(refused == 1 ? "a new thread or process" : $"{refused} new threads or processes")} to {whom} at its cgroup's limit of {Limit} ({Path}). Fix the plugin's thread or process leak, or raise limits.maxThreads in its manifest if it needs that many.")
        : null;

    /// <summary>Kills every process in this cgroup.</summary>
    public void KillMembers() => WorkerCgroup.KillMembers(Path);
}
