namespace GrpcPlugins.Supervisor.Limits;

/// <summary>One worker's own cgroup: its limit, its OOM kills, and its removal after the worker exits.</summary>
internal sealed class WorkerCgroup(string path, CgroupVersion version, long limitBytes)
{
    /// <summary>The cgroup's directory.</summary>
    public string Path { get; } = path;

    /// <summary>The limit the kernel enforces, in bytes.</summary>
    public long LimitBytes { get; } = limitBytes;

    /// <summary>Writing a pid here moves that process into the cgroup.</summary>
    public string ProcsFile => System.IO.Path.Combine(Path, "cgroup.procs");

    /// <summary>The memory the kernel charges to this cgroup now, in bytes; 0 once it is gone.</summary>
    public long UsageBytes => CgroupFiles.ReadNumber(System.IO.Path.Combine(Path, version == CgroupVersion.V2 ? "memory.current" : "memory.usage_in_bytes"));

    /// <summary>How many times the kernel's OOM killer killed a process of this cgroup.</summary>
    public long OomKills => CgroupFiles.ReadCounter(System.IO.Path.Combine(Path, version == CgroupVersion.V2 ? "memory.events" : "memory.oom_control"), "oom_kill");

    /// <summary>
    /// Removes the cgroup at <paramref name="path"/>; the kernel refuses while a
    /// process is still in it. The worker is gone by then, so what is left is a
    /// process it started that escaped its group and its token (a daemon that
    /// cleared its environment) but not its cgroup, which the kernel keeps every
    /// descendant in: each is killed, and a few short retries cover their
    /// teardown. Returns the error when it stays.
    /// </summary>
    public static async Task<string?> RemoveAsync(string path, TimeProvider time)
    {
        for (var attempt = 0; ; attempt++)
        {
            var error = RemoveDirectory(path);
            if (error is null || attempt >= 20)
            {
                return error;
            }

            KillMembers(path);
            await Task.Delay(TimeSpan.FromMilliseconds(50), time).ConfigureAwait(false);
        }
    }

    /// <summary>Kills every process in this cgroup: the worker's and whatever it started, whichever group or environment they took.</summary>
    public void KillMembers() => KillMembers(Path);

    /// <summary>A worker's cgroup name: its plugin, its host's tag, and a part of its own.</summary>
    public static string NameFor(string pluginId, string hostTag) =>
        hostTag.Length == 0 ? $"{pluginId}-{Guid.NewGuid():N}" : $"{pluginId}-{hostTag}-{Guid.NewGuid():N}";

    /// <summary>
    /// Removes the child cgroups of <paramref name="directory"/> a previous run of this host left:
    /// those named with its <paramref name="hostTag"/> (or every child, when it has none). Another
    /// host given the same parent has workers of its own there, which a removal would kill. Call it
    /// after reaping that run's workers: a cgroup goes once its processes are gone.
    /// </summary>
    public static async Task<IReadOnlyList<(string Path, string? Error)>> RemoveChildrenAsync(string directory, string hostTag, TimeProvider time)
    {
        var removed = new List<(string, string?)>();
        foreach (var child in Directory.GetDirectories(directory).Where(c => hostTag.Length == 0 || IsTagged(System.IO.Path.GetFileName(c), hostTag)))
        {
            removed.Add((child, await RemoveAsync(child, time).ConfigureAwait(false)));
        }

        return removed;
    }

    // "{plugin id}-{tag}-{32 hex digits}": the id may hold dashes, the rest may not.
    private static bool IsTagged(string name, string hostTag) =>
        name.Length > hostTag.Length + 34 && name.AsSpan(name.Length - 32 - hostTag.Length - 2).StartsWith($"-{hostTag}-", StringComparison.Ordinal);

    /// <summary>Kills every process in the cgroup at <paramref name="path"/>.</summary>
    internal static void KillMembers(string path)
    {
        string[] pids;
        try
        {
            pids = File.ReadAllLines(System.IO.Path.Combine(path, "cgroup.procs"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var line in pids)
        {
            if (int.TryParse(line, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) && pid > 1)
            {
                Processes.ProcessSignals.SignalProcess(pid, Processes.ProcessSignals.SigKill);
            }
        }
    }

    /// <summary>rmdir of a cgroup directory (its interface files go with it); null when done or already gone.</summary>
    internal static string? RemoveDirectory(string path)
    {
        try
        {
            // Not recursive: in cgroupfs, rmdir removes the interface files, and deleting them one by one is refused.
            Directory.Delete(path, recursive: false);
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException ex)
        {
            return ex.Message;
        }
    }
}
