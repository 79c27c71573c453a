using System.Globalization;

namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// A cgroup directory the host may write (delegated to it), under which every
/// worker gets a child cgroup with its plugin's memory limit, enforced by the
/// kernel. cgroup v2 (memory.max) is the target; the cgroup v1 memory
/// controller (memory.limit_in_bytes) is taken as well, since hosts still run it.
/// </summary>
internal sealed class MemoryCgroup
{
    private MemoryCgroup(string directory, CgroupVersion version)
    {
        Directory = directory;
        Version = version;
    }

    /// <summary>The delegated directory, for example /sys/fs/cgroup/plugins.slice/host.service/workers.</summary>
    public string Directory { get; }

    /// <summary>Which cgroup interface the directory speaks.</summary>
    public CgroupVersion Version { get; }

    /// <summary>Checks that <paramref name="directory"/> is a writable memory cgroup; throws with the fix when it is not.</summary>
    public static MemoryCgroup Open(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(directory, "cgroup.controllers")))
        {
            // cgroup v2: children get memory.max only if the parent hands the memory controller down.
            var subtree = Path.Combine(directory, "cgroup.subtree_control");
            if (!ReadWords(subtree).Contains("memory"))
            {
                TryWrite(subtree, "+memory", directory, "enable the memory controller for its children (it must not hold processes itself, and its parent must hand memory down)");
            }

            return new MemoryCgroup(directory, CgroupVersion.V2);
        }

        if (File.Exists(Path.Combine(directory, "memory.limit_in_bytes")))
        {
            return new MemoryCgroup(directory, CgroupVersion.V1);
        }

        throw new InvalidOperationException(
            $"'{directory}' is not a memory cgroup: it has neither cgroup.controllers (cgroup v2) nor memory.limit_in_bytes (cgroup v1). " +
            "Point PluginHost:MemoryCgroupDirectory at a cgroup delegated to the host (for example run it with `systemd-run -p Delegate=yes` and use a child of its cgroup), or leave it unset to rely on the RSS watchdog.");
    }

    /// <summary>
    /// Creates the child cgroup <paramref name="name"/> with <paramref name="limitBytes"/>
    /// as its hard limit and no swap beyond it. The worker joins it through
    /// <see cref="WorkerCgroup.ProcsFile"/> before its program starts, so every
    /// byte it allocates is counted.
    /// </summary>
    public WorkerCgroup Create(string name, long limitBytes)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(path);
        var limit = limitBytes.ToString(CultureInfo.InvariantCulture);
        try
        {
            if (Version == CgroupVersion.V2)
            {
                TryWrite(Path.Combine(path, "memory.max"), limit, path, "set its memory limit");
                WriteIfPresent(Path.Combine(path, "memory.swap.max"), "0");
            }
            else
            {
                TryWrite(Path.Combine(path, "memory.limit_in_bytes"), limit, path, "set its memory limit");
                // Memory plus swap no larger than memory: the limit cannot be dodged by swapping.
                WriteIfPresent(Path.Combine(path, "memory.memsw.limit_in_bytes"), limit);
            }
        }
        catch
        {
            WorkerCgroup.RemoveDirectory(path);
            throw;
        }

        return new WorkerCgroup(path, Version, limitBytes);
    }

    /// <summary>
    /// Removes the child cgroups a previous run of this host left (named with its
    /// <paramref name="hostTag"/>; another host's workers may share the directory).
    /// Call it after reaping that run's workers: a cgroup goes once its processes are gone.
    /// </summary>
    public Task<IReadOnlyList<(string Path, string? Error)>> RemoveLeftoversAsync(string hostTag, TimeProvider time) => WorkerCgroup.RemoveChildrenAsync(Directory, hostTag, time);

    private static HashSet<string> ReadWords(string file) =>
        File.Exists(file) ? [.. File.ReadAllText(file).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries)] : [];

    private static void TryWrite(string file, string value, string directory, string purpose) =>
        CgroupFiles.Write(file, value, directory, purpose, "PluginHost:MemoryCgroupDirectory");

    private static void WriteIfPresent(string file, string value)
    {
        if (File.Exists(file))
        {
            File.WriteAllText(file, value);
        }
    }
}

/// <summary>The two cgroup interfaces.</summary>
internal enum CgroupVersion
{
    /// <summary>The v1 memory controller hierarchy (memory.limit_in_bytes, memory.oom_control).</summary>
    V1,

    /// <summary>The unified v2 hierarchy (memory.max, memory.events).</summary>
    V2,
}
