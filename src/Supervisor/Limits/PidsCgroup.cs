namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// A cgroup v1 pids directory the host may write (delegated to it), under which every worker gets
/// a child cgroup whose pids.max is its plugin's thread limit: the kernel refuses the fork or the
/// thread past it, which no pass over /proc can do for a loop forking as fast as it can. cgroup v2
/// is refused: there a worker is in one cgroup, so its pids limit belongs in its memory cgroup, and
/// that path is not written yet (no machine here runs v2 to test it).
/// </summary>
internal sealed class PidsCgroup
{
    private PidsCgroup(string directory) => Directory = directory;

    /// <summary>The delegated directory, for example /sys/fs/cgroup/pids/plugin-host.</summary>
    public string Directory { get; }

    /// <summary>Checks that <paramref name="directory"/> is a cgroup v1 pids cgroup; throws with the fix when it is not.</summary>
    public static PidsCgroup Open(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(directory, "cgroup.controllers")))
        {
            throw new InvalidOperationException(
                $"'{directory}' is a cgroup v2 directory; PluginHost:PidsCgroupDirectory takes a cgroup v1 pids hierarchy only, since on v2 a worker's one cgroup would hold both limits. " +
                "Leave it unset on this machine: the thread watchdog still holds every worker to limits.maxThreads.");
        }

        if (!File.Exists(Path.Combine(directory, "pids.max")))
        {
            throw new InvalidOperationException(
                $"'{directory}' is not a cgroup v1 pids cgroup below its hierarchy's root: it has no pids.max. " +
                "Point PluginHost:PidsCgroupDirectory at a child of the pids hierarchy the host may write (for example `mkdir /sys/fs/cgroup/pids/plugin-host`), or leave it unset to rely on the thread watchdog.");
        }

        return new PidsCgroup(directory);
    }

    /// <summary>
    /// Creates the child cgroup <paramref name="name"/> with <paramref name="maxTasks"/> as its
    /// pids.max (threads and processes alike: the kernel counts tasks). The worker joins it through
    /// <see cref="WorkerPidsCgroup.ProcsFile"/> before its program starts.
    /// </summary>
    public WorkerPidsCgroup Create(string name, int maxTasks)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(path);
        try
        {
            CgroupFiles.Write(Path.Combine(path, "pids.max"), maxTasks.ToString(System.Globalization.CultureInfo.InvariantCulture), path, "set its thread limit", "PluginHost:PidsCgroupDirectory");
        }
        catch
        {
            WorkerCgroup.RemoveDirectory(path);
            throw;
        }

        return new WorkerPidsCgroup(path, maxTasks);
    }

    /// <summary>Removes the child cgroups a previous run left; see <see cref="MemoryCgroup.RemoveLeftoversAsync(TimeProvider)"/>.</summary>
    public Task<IReadOnlyList<(string Path, string? Error)>> RemoveLeftoversAsync(TimeProvider time) => WorkerCgroup.RemoveChildrenAsync(Directory, time);
}
