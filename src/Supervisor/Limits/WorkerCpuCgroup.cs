using System.Globalization;

namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// One worker's own cpu cgroup: its CPU limit as a CFS quota, so that a plugin spinning on every
/// core is throttled to its share by the kernel and the host's threads keep theirs; how long the
/// kernel held it back; and its removal after the worker exits. Niceness only orders the queue:
/// a busy plugin on an idle host still takes every core.
/// </summary>
internal sealed class WorkerCpuCgroup(string path, double cpus)
{
    // The kernel's default period: a quota of cpus × 100 ms in every 100 ms.
    private const int PeriodMicroseconds = 100_000;

    // The least quota the kernel takes (1 ms a period).
    private const int LeastQuotaMicroseconds = 1_000;

    /// <summary>Opens the host's delegated cpu directory (<see cref="V1Cgroup.Open"/>).</summary>
    public static V1Cgroup OpenParent(string directory) =>
        V1Cgroup.Open(directory, "cpu", "cpu.cfs_quota_us", "PluginHost:CpuCgroupDirectory", "limits.cpus is then not enforced (the admin view says so), and the workers' niceness (PluginHost:WorkerNice) alone lets the host's threads go first");

    /// <summary>Creates the worker's cgroup under <paramref name="parent"/>, its quota <paramref name="cpus"/> cores (0.5: half of one; 2: two).</summary>
    public static WorkerCpuCgroup Create(V1Cgroup parent, string name, double cpus)
    {
        var quota = Math.Max(LeastQuotaMicroseconds, (long)Math.Round(cpus * PeriodMicroseconds));
        return new(parent.Create(name, [("cpu.cfs_period_us", PeriodMicroseconds.ToString(CultureInfo.InvariantCulture)), ("cpu.cfs_quota_us", quota.ToString(CultureInfo.InvariantCulture))], "set its CPU limit"), cpus);
    }

    /// <summary>The cgroup's directory.</summary>
    public string Path { get; } = path;

    /// <summary>The cores' worth of CPU time the kernel lets it use.</summary>
    public double Cpus { get; } = cpus;

    /// <summary>Writing a pid here moves that process into the cgroup.</summary>
    public string ProcsFile => System.IO.Path.Combine(Path, "cgroup.procs");

    /// <summary>How long the kernel held the cgroup's threads back at its quota, in all; zero once it is gone.</summary>
    public TimeSpan Throttled => TimeSpan.FromTicks(CgroupFiles.ReadCounter(System.IO.Path.Combine(Path, "cpu.stat"), "throttled_time") / 100);
}
