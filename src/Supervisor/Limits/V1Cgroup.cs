namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// A directory of one cgroup v1 controller's hierarchy (pids, cpu) the host may write, delegated
/// to it, under which every worker with that limit gets a child cgroup of its own. On v1 each
/// controller is a hierarchy of its own, so a worker joins one cgroup in each (the memory one is
/// <see cref="MemoryCgroup"/>). cgroup v2 is refused: there a worker is in one cgroup, so these
/// limits belong in its memory cgroup, and that path is not written yet (no machine here runs v2
/// to test it).
/// </summary>
internal sealed class V1Cgroup
{
    private readonly string _option;

    private V1Cgroup(string directory, string option)
    {
        Directory = directory;
        _option = option;
    }

    /// <summary>The delegated directory, for example /sys/fs/cgroup/pids/plugin-host.</summary>
    public string Directory { get; }

    /// <summary>
    /// Checks that <paramref name="directory"/> is a cgroup of the v1 <paramref name="controller"/>
    /// hierarchy below its root (it has <paramref name="limitFile"/>); throws with the fix when it is not.
    /// </summary>
    /// <param name="option">The option that named it, for the message.</param>
    /// <param name="withoutIt">What holds the limit when the option is unset, for the message.</param>
    public static V1Cgroup Open(string directory, string controller, string limitFile, string option, string withoutIt)
    {
        directory = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(directory, "cgroup.controllers")))
        {
            throw new InvalidOperationException(
                $"'{directory}' is a cgroup v2 directory; {option} takes a cgroup v1 {controller} hierarchy only, since on v2 a worker's one cgroup would hold all its limits. " +
                $"Leave it unset on this machine: {withoutIt}.");
        }

        if (!File.Exists(Path.Combine(directory, limitFile)))
        {
            throw new InvalidOperationException(
                $"'{directory}' is not a cgroup v1 {controller} cgroup below its hierarchy's root: it has no {limitFile}. " +
                $"Point {option} at a child of the {controller} hierarchy the host may write (for example `mkdir /sys/fs/cgroup/{controller}/plugin-host`), or leave it unset: {withoutIt}.");
        }

        return new V1Cgroup(directory, option);
    }

    /// <summary>
    /// Creates the child cgroup <paramref name="name"/> and writes each of its <paramref name="limits"/>
    /// in order; the worker joins it through its cgroup.procs before its program starts. Returns its path.
    /// </summary>
    /// <param name="purpose">What the limits are for, for the message when the kernel refuses one.</param>
    public string Create(string name, IReadOnlyList<(string File, string Value)> limits, string purpose)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(path);
        try
        {
            foreach (var (file, value) in limits)
            {
                CgroupFiles.Write(Path.Combine(path, file), value, path, purpose, _option);
            }
        }
        catch
        {
            WorkerCgroup.RemoveDirectory(path);
            throw;
        }

        return path;
    }

    /// <summary>Removes the child cgroups a previous run of this host left; see <see cref="MemoryCgroup.RemoveLeftoversAsync(string, TimeProvider)"/>.</summary>
    public Task<IReadOnlyList<(string Path, string? Error)>> RemoveLeftoversAsync(string hostTag, TimeProvider time) => WorkerCgroup.RemoveChildrenAsync(Directory, hostTag, time);
}
