using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>CPU limits enforced by the kernel, in a real cgroup v1 cpu hierarchy, when the host has one.</summary>
public sealed class CpuLimitTests
{
    [Fact]
    public async Task APluginSpinningOnEveryCore_IsHeldToItsCpuLimit_AndTheThrottlingIsShown()
    {
        using var parent = TestCgroup.CreateCpu();
        var manifest = PluginFolders.Test("spinner", "spin");
        manifest["limits"] = new JsonObject { ["cpus"] = 0.25 };
        await using (var host = await TestHost.StartAsync([manifest], o => o.CpuCgroupDirectory = parent.Path))
        {
            var ready = await host.WaitForStateAsync("spinner", WorkerState.Ready);
            var pid = ready.Pid!.Value;

            var child = Assert.Single(parent.Children);
            Assert.StartsWith("spinner-", Path.GetFileName(child), StringComparison.Ordinal);
            Assert.Equal("25000", File.ReadAllText(Path.Combine(child, "cpu.cfs_quota_us")).Trim());
            Assert.Equal("100000", File.ReadAllText(Path.Combine(child, "cpu.cfs_period_us")).Trim());
            Assert.Contains(pid.ToString(CultureInfo.InvariantCulture), File.ReadAllLines(Path.Combine(child, "cgroup.procs")));
            // Told its limit, to size its pools by; Go's scheduler told it too, since it does not read the quota.
            var environment = File.ReadAllText($"/proc/{pid}/environ").Split('\0');
            Assert.Contains("PLUGIN_CPU_LIMIT=0.25", environment);
            Assert.Contains("GOMAXPROCS=1", environment);

            // Two threads spinning would take both cores (2 s of CPU a second); held, a quarter of one.
            var (before, at) = (CpuSeconds(pid), DateTime.UtcNow);
            await Task.Delay(TimeSpan.FromSeconds(2));
            var used = CpuSeconds(pid) - before;
            var elapsed = (DateTime.UtcNow - at).TotalSeconds;
            Assert.InRange(used / elapsed, 0.01, 0.25 * 1.5);

            JsonElement cpu = default;
            await ReplicaTests.Until(async () => (cpu = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/spinner")).GetProperty("cpu")).GetProperty("throttledSeconds").GetDouble() > 0, "a reading of the spinner's throttling");
            Assert.Equal(0.25, cpu.GetProperty("limit").GetDouble());
            // What it used, read from its process group as for any plugin: at least its quota over the seconds it spun.
            Assert.True(cpu.GetProperty("usedSeconds").GetDouble() >= 0.1, cpu.ToString());
            Assert.Equal($"cgroup {child}", cpu.GetProperty("enforcement").GetString());
            var metrics = await host.Client.GetStringAsync("/metrics");
            Assert.Matches("plugin_cpu_throttled_seconds_total\\{[^}]*plugin=\"spinner\"[^}]*\\} [0-9.]*[1-9]", metrics);
            Assert.Matches("plugin_cpu_time_seconds_total\\{[^}]*plugin=\"spinner\"[^}]*\\} [0-9.]*[1-9]", metrics);
        }

        Assert.Empty(parent.Children);
    }

    /// <summary>The process's user and system CPU time (all its threads), from /proc.</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command (which may hold spaces) in its parentheses; utime and stime are the 14th and 15th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
