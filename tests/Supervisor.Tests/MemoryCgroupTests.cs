using GrpcPlugins.Supervisor.Limits;

namespace GrpcPlugins.Supervisor.Tests;

/// <summary>The pure parts of cgroup handling: which interface a directory speaks, and its counters. The kernel path is in the functional tests.</summary>
public sealed class MemoryCgroupTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gpt-cg-").FullName;

    [Theory]
    [InlineData("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n", 2)]
    [InlineData("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n", 7)]
    [InlineData("oom_kill_disable 0\nunder_oom 0\n", 0)]
    [InlineData("", 0)]
    public void OomKillCounter_IsReadFromEitherInterfacesFile(string text, long expected) =>
        Assert.Equal(expected, CgroupFiles.ParseCounter(text, "oom_kill"));

    [Fact]
    public async Task ALeftoverRemoval_TakesOnlyTheCgroupsNamedWithItsHostsTag()
    {
        string[] names = [WorkerCgroup.NameFor("db-driver", "1a2b3c4d"), WorkerCgroup.NameFor("x", "9f8e7d6c"), WorkerCgroup.NameFor("x", ""), "1a2b3c4d-" + Guid.NewGuid().ToString("N"), "t-from-another-host"];
        foreach (var name in names)
        {
            Directory.CreateDirectory(Path.Combine(_directory, name));
        }

        var removed = await WorkerCgroup.RemoveChildrenAsync(_directory, "1a2b3c4d", TimeProvider.System);

        Assert.Equal([Path.Combine(_directory, names[0])], removed.Select(r => r.Path));
        Assert.Equal(names.Skip(1).Order(StringComparer.Ordinal), Directory.GetDirectories(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ADirectoryThatIsNoCgroup_IsRefusedWithTheFix()
    {
        var error = Assert.Throws<InvalidOperationException>(() => MemoryCgroup.Open(_directory));

        Assert.Contains("is not a memory cgroup", error.Message, StringComparison.Ordinal);
        Assert.Contains("Delegate=yes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void V2Directory_HandingMemoryDown_IsTakenAsV2()
    {
        File.WriteAllText(Path.Combine(_directory, "cgroup.controllers"), "cpu io memory pids\n");
        File.WriteAllText(Path.Combine(_directory, "cgroup.subtree_control"), "cpu memory\n");

        Assert.Equal(CgroupVersion.V2, MemoryCgroup.Open(_directory).Version);
    }

    [Fact]
    public void V1MemoryHierarchy_IsTakenAsV1()
    {
        File.WriteAllText(Path.Combine(_directory, "memory.limit_in_bytes"), "9223372036854771712\n");

        Assert.Equal(CgroupVersion.V1, MemoryCgroup.Open(_directory).Version);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
