using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Thread limits enforced by the kernel, in a real cgroup v1 pids hierarchy, when the host has one.</summary>
public sealed class PidsCgroupTests
{
    [Fact]
    public async Task APluginForkingAsFastAsItCan_IsHeldAtItsThreadLimitByTheKernel_KilledForIt_AndItsCgroupRemoved()
    {
        using var parent = TestCgroup.CreatePids();
        var manifest = PluginFolders.Test("forker", "fork-fast");
        manifest["limits"] = new JsonObject { ["maxThreads"] = 64, ["memoryMiB"] = 4096 };
        await using (var host = await TestHost.StartAsync([manifest], o =>
        {
            o.MaxRestarts = 0;
            o.PidsCgroupDirectory = parent.Path;
        }))
        {
            host.ExpectErrors = true; // the forker is killed on purpose
            var ready = await host.WaitForStateAsync("forker", WorkerState.Ready);

            // Before it forks (from 3 s on): in its own cgroup, whose pids.max is its limit.
            var child = Assert.Single(parent.Children);
            Assert.StartsWith("forker-", Path.GetFileName(child), StringComparison.Ordinal);
            Assert.Equal("64", File.ReadAllText(Path.Combine(child, "pids.max")).Trim());
            Assert.Contains(ready.Pid!.Value.ToString(CultureInfo.InvariantCulture), File.ReadAllLines(Path.Combine(child, "cgroup.procs")));
            var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/forker");
            Assert.Equal($"cgroup {child}", view.GetProperty("threads").GetProperty("enforcement").GetString());

            var ended = await host.WaitForStateAsync("forker", WorkerState.CrashLooping, TimeSpan.FromSeconds(30));

            Assert.Matches(@"thread limit reached: the kernel refused (a new thread or process|\d+ new threads or processes) to worker pid \d+ at its cgroup's limit of 64", ended.LastError);
        }

        // The worker's cgroup goes with it, its helpers killed: the parent could not be removed otherwise.
        Assert.Empty(parent.Children);
    }

    [Fact]
    public async Task AWorkerWithAMemoryAndAThreadLimit_JoinsACgroupInEachHierarchy_BeforeItsProgramRuns()
    {
        using var memory = TestCgroup.Create();
        using var pids = TestCgroup.CreatePids();
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["maxThreads"] = 200, ["memoryMiB"] = 300 };
        await using (var host = await TestHost.StartAsync([manifest], o =>
        {
            o.MemoryCgroupDirectory = memory.Path;
            o.PidsCgroupDirectory = pids.Path;
        }))
        {
            var ready = await host.WaitForStateAsync("t", WorkerState.Ready);
            var pid = ready.Pid!.Value.ToString(CultureInfo.InvariantCulture);

            Assert.Contains(pid, File.ReadAllLines(Path.Combine(Assert.Single(memory.Children), "cgroup.procs")));
            var child = Assert.Single(pids.Children);
            Assert.Contains(pid, File.ReadAllLines(Path.Combine(child, "cgroup.procs")));
            // The runtime's threads are the cgroup's tasks (a .NET worker runs a dozen or more), counted against its pids.max.
            var tasks = File.ReadAllLines(Path.Combine(child, "tasks"));
            Assert.Contains(pid, tasks);
            Assert.InRange(tasks.Length, 8, 200);
        }

        Assert.Empty(memory.Children);
        Assert.Empty(pids.Children);
    }
}
