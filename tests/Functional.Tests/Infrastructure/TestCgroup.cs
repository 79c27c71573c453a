using GrpcPlugins.Supervisor.Limits;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// A fresh memory cgroup for one test, under the machine's cgroup v2 root or its
/// cgroup v1 memory hierarchy (or a pids cgroup, under its v1 pids hierarchy), removed at the end. Creating one needs root (as in
/// CI) or a delegated cgroup; without either the test says so and fails.
/// </summary>
internal sealed class TestCgroup : IDisposable
{
    private TestCgroup(string path) => Path = path;

    public string Path { get; }

    public static TestCgroup Create()
    {
        var root = File.Exists("/sys/fs/cgroup/cgroup.controllers") && File.ReadAllText("/sys/fs/cgroup/cgroup.subtree_control").Contains("memory", StringComparison.Ordinal)
            ? "/sys/fs/cgroup"
            : File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? "/sys/fs/cgroup/memory" : null;
        if (root is null)
        {
            throw new InvalidOperationException("This machine has no memory cgroup (neither cgroup v2 with the memory controller nor a cgroup v1 memory hierarchy); the kernel-enforced limit cannot be tested here.");
        }

        return Under(root);
    }

    /// <summary>A fresh cgroup in the machine's cgroup v1 pids hierarchy, which the host takes for thread limits.</summary>
    public static TestCgroup CreatePids() => CreateV1("pids", "thread");

    /// <summary>A fresh cgroup in the machine's cgroup v1 cpu hierarchy, which the host takes for CPU limits.</summary>
    public static TestCgroup CreateCpu() => CreateV1("cpu", "CPU");

    private static TestCgroup CreateV1(string controller, string limit)
    {
        var root = "/sys/fs/cgroup/" + controller;
        if (!Directory.Exists(root) || File.Exists(System.IO.Path.Combine(root, "cgroup.controllers")))
        {
            throw new InvalidOperationException($"This machine has no cgroup v1 {controller} hierarchy at {root}; the kernel-enforced {limit} limit cannot be tested here.");
        }

        return Under(root);
    }

    private static TestCgroup Under(string root)
    {
        var path = System.IO.Path.Combine(root, "gpt-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new InvalidOperationException($"Cannot create a cgroup under {root}: run the tests as root (as CI does) or in a delegated cgroup.", ex);
        }

        return new TestCgroup(path);
    }

    /// <summary>The worker cgroups the host left behind (there should be none).</summary>
    public string[] Children => Directory.GetDirectories(Path);

    public void Dispose()
    {
        // Children first; the host's own removal, with its retries for a cgroup still busy with its last process.
        foreach (var directory in Children.Append(Path))
        {
            if (WorkerCgroup.RemoveAsync(directory, TimeProvider.System).GetAwaiter().GetResult() is { } error)
            {
                throw new IOException($"cgroup {directory} could not be removed: {error}");
            }
        }
    }
}
