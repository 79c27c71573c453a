namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// A fresh memory cgroup for one test, under the machine's cgroup v2 root or its
/// cgroup v1 memory hierarchy, removed at the end. Creating one needs root (as in
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
        // rmdir, children first (cgroupfs refuses to delete interface files one by one);
        // a cgroup whose last process is still being torn down is busy for a moment.
        foreach (var directory in Children.Append(Path))
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    Directory.Delete(directory, recursive: false);
                    break;
                }
                catch (IOException) when (attempt < 40)
                {
                    Thread.Sleep(50);
                }
            }
        }
    }
}
