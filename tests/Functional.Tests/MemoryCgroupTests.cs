using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Memory limits enforced by the kernel, in a real cgroup, when the host has one.</summary>
public sealed class MemoryCgroupTests
{
    [Fact]
    public async Task Worker_RunsInItsOwnCgroup_WithItsLimit_WhichIsRemovedAfterIt()
    {
        using var parent = TestCgroup.Create();
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["memoryMiB"] = 300 };
        await using (var host = await TestHost.StartAsync([manifest], o => o.MemoryCgroupDirectory = parent.Path))
        {
            var snapshot = await host.WaitForStateAsync("t", WorkerState.Ready);

            var child = Assert.Single(parent.Children);
            Assert.StartsWith("t-", Path.GetFileName(child), StringComparison.Ordinal);
            var procs = File.ReadAllText(Path.Combine(child, "cgroup.procs")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(snapshot.Pid!.Value.ToString(CultureInfo.InvariantCulture), procs);
            var limitFile = File.Exists(Path.Combine(child, "memory.max")) ? "memory.max" : "memory.limit_in_bytes";
            Assert.Equal(300L * 1024 * 1024, long.Parse(File.ReadAllText(Path.Combine(child, limitFile)).Trim(), CultureInfo.InvariantCulture));
            var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
            Assert.Equal($"cgroup {child}", view.GetProperty("memoryEnforcement").GetString());
            // Memory is what the kernel charges the worker's cgroup, never more than its limit.
            Assert.InRange(view.GetProperty("memoryBytes").GetInt64(), 1, 300L * 1024 * 1024);
        }

        Assert.Empty(parent.Children);
    }

    [Fact]
    public async Task ASecondHostGivenTheSameCgroup_LeavesTheFirstsWorkerAlone_AndRemovesOnlyItsOwnLeftovers()
    {
        using var parent = TestCgroup.Create();
        await using var first = await TestHost.StartAsync([PluginFolders.Test("t")], o => o.MemoryCgroupDirectory = parent.Path);
        var before = await first.WaitForStateAsync("t", WorkerState.Ready);
        // What the second host's previous run left: a cgroup with its tag, nobody in it.
        var secondRoot = Directory.CreateTempSubdirectory("gpt-").FullName;
        var leftover = Directory.CreateDirectory(Path.Combine(parent.Path, $"u-{Host.Hosting.StateDirectoryLock.TagOf(Path.Combine(secondRoot, "state"))}-{Guid.NewGuid():N}")).FullName;

        // Its start removed every child of the parent, and killed what ran in them: the first host's worker.
        await using var second = await TestHost.StartAsync([PluginFolders.Test("u")], o => o.MemoryCgroupDirectory = parent.Path, secondRoot);
        await second.WaitForStateAsync("u", WorkerState.Ready);
        var after = first.Supervisor("t").Snapshot;

        Assert.Equal(before.Pid, after.Pid);
        Assert.Equal(0, after.Restarts);
        Assert.True(Directory.Exists($"/proc/{before.Pid}"), "the first host's worker was killed");
        Assert.False(Directory.Exists(leftover), "the second host's own leftover stayed");
        Assert.Equal(2, parent.Children.Length);
    }

    [Fact]
    public async Task MemoryHog_IsKilledByTheKernelAtItsCgroupLimit_AndTheBreachIsReportedAsSuch()
    {
        using var parent = TestCgroup.Create();
        var manifest = PluginFolders.Test("hog", "memory-hog");
        manifest["limits"] = new JsonObject { ["memoryMiB"] = 160 };
        await using (var host = await TestHost.StartAsync([manifest], o =>
        {
            o.MaxRestarts = 0;
            o.MemoryCgroupDirectory = parent.Path;
        }))
        {
            host.ExpectErrors = true; // the hog is killed on purpose

            var snapshot = await host.WaitForStateAsync("hog", WorkerState.CrashLooping);

            Assert.True(snapshot.LastError?.Contains("memory limit exceeded: the kernel killed", StringComparison.Ordinal), snapshot.LastError);
            Assert.Contains("cgroup limit of 160 MiB", snapshot.LastError, StringComparison.Ordinal);
        }

        Assert.Empty(parent.Children);
    }

    [Fact]
    public async Task AHelperThatLeftTheGroupAndClearedItsEnvironment_IsStillKilledThroughTheCgroup_WhichIsRemoved()
    {
        using var parent = TestCgroup.Create();
        var manifest = PluginFolders.Test("daemon", "spawn-bare-escapee");
        manifest["limits"] = new JsonObject { ["memoryMiB"] = 300 };
        var helper = 0;
        try
        {
            await using (var host = await TestHost.StartAsync([manifest], o => o.MemoryCgroupDirectory = parent.Path))
            {
                var ready = await host.WaitForStateAsync("daemon", WorkerState.Ready);
                helper = SupervisorTests.EscapeePid(ready);
                Assert.NotEqual(ready.Pid, Liveness.Group(helper));
            }

            await SupervisorTests.WaitUntilAsync(() => !Liveness.IsAlive(helper), TimeSpan.FromSeconds(5));
            Assert.False(Liveness.IsAlive(helper), $"the helper {helper} outlived the host");
            Assert.Empty(parent.Children);
        }
        finally
        {
            if (helper > 0 && Liveness.IsAlive(helper))
            {
                using var left = System.Diagnostics.Process.GetProcessById(helper);
                left.Kill();
            }
        }
    }

    [Fact]
    public async Task WorkerCgroupsLeftByAKilledHost_AreRemovedAtTheNextStart_InEveryHierarchy()
    {
        using var memory = TestCgroup.Create();
        using var pids = TestCgroup.CreatePids();
        using var cpu = TestCgroup.CreateCpu();
        TestCgroup[] parents = [memory, pids, cpu];
        // Named as this host names its workers' cgroups: its tag is its state directory's.
        var root = Directory.CreateTempSubdirectory("gpt-").FullName;
        var tag = Host.Hosting.StateDirectoryLock.TagOf(Path.Combine(root, "state"));
        var leftovers = parents.Select(p => Directory.CreateDirectory(Path.Combine(p.Path, $"t-{tag}-{Guid.NewGuid():N}")).FullName).ToList();
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["cpus"] = 1.5 };

        await using (var host = await TestHost.StartAsync(
            [manifest],
            o =>
            {
                o.MemoryCgroupDirectory = memory.Path;
                o.PidsCgroupDirectory = pids.Path;
                o.CpuCgroupDirectory = cpu.Path;
            },
            root))
        {
            await host.WaitForStateAsync("t", WorkerState.Ready);

            Assert.All(leftovers, leftover => Assert.False(Directory.Exists(leftover), $"the previous run's cgroup {leftover} is still there"));
            // The worker's own, one in each hierarchy.
            Assert.All(parents, parent => Assert.Single(parent.Children));
        }

        Assert.All(parents, parent => Assert.Empty(parent.Children));
    }

    [Fact]
    public async Task WithoutACgroup_TheAdminApiSaysTheWatchdogEnforces()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");

        Assert.Equal("rss-watchdog", view.GetProperty("memoryEnforcement").GetString());
    }

    [Theory]
    [InlineData("Memory", "is not a memory cgroup", "Point PluginHost:MemoryCgroupDirectory at a cgroup delegated to the host")]
    [InlineData("Pids", "is not a cgroup v1 pids cgroup below its hierarchy's root: it has no pids.max", "Point PluginHost:PidsCgroupDirectory at a child of the pids hierarchy")]
    [InlineData("Cpu", "is not a cgroup v1 cpu cgroup below its hierarchy's root: it has no cpu.cfs_quota_us", "Point PluginHost:CpuCgroupDirectory at a child of the cpu hierarchy")]
    public async Task HostGivenAPathThatIsNoCgroup_RefusesToStart_AndSaysHowToFixIt(string controller, string what, string fix)
    {
        var notACgroup = Directory.CreateTempSubdirectory("gpt-notcg-").FullName;
        try
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync([PluginFolders.Test("t")], o =>
            {
                switch (controller)
                {
                    case "Memory":
                        o.MemoryCgroupDirectory = notACgroup;
                        break;
                    case "Pids":
                        o.PidsCgroupDirectory = notACgroup;
                        break;
                    default:
                        o.CpuCgroupDirectory = notACgroup;
                        break;
                }
            }));

            Assert.Contains(what, error.ToString(), StringComparison.Ordinal);
            Assert.Contains(fix, error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(notACgroup, recursive: true);
        }
    }
}
