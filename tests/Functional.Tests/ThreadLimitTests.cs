using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A plugin leaking threads or processes: every plugin runs as the host's user, whose threads the
/// kernel bounds together, so one that never stops would leave the host none to start.
/// </summary>
public sealed class ThreadLimitTests
{
    [Theory]
    [InlineData("leak-threads")]
    [InlineData("leak-processes")]
    [InlineData("leak-processes", "300")]
    [InlineData("leak-processes", "500")]
    [InlineData("leak-processes", "700")]
    [InlineData("fork-fast")]
    public async Task APluginLeakingThreadsOrProcesses_IsKilledAtItsThreadLimit_AndTheCauseIsShown(string mode, params string[] leakFromMs)
    {
        // Leaking from 300 to 700 ms crosses the limit about when its start hands it to the
        // supervisor: a kill in that instant was reported as a plain SIGKILL exit.
        var manifest = PluginFolders.Test("leaky", mode, leakFromMs);
        // Memory to spare: a child caught between its fork and its exec counts the parent's pages
        // again in the group's RSS, and on a loaded machine a few of them passed 512 MiB first.
        manifest["limits"] = new JsonObject { ["maxThreads"] = 64, ["memoryMiB"] = 4096 };
        await using var host = await TestHost.StartAsync([manifest], o => o.MaxRestarts = 0);
        host.ExpectErrors = true; // the leaker is killed on purpose

        var snapshot = await host.WaitForStateAsync("leaky", WorkerState.CrashLooping, TimeSpan.FromSeconds(30));
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/leaky");

        // Caught by the watchdog once Ready, or by the start's watch on a machine slow to start it.
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(snapshot.LastError ?? string.Empty, @"thread limit exceeded: \d+ threads > 64 in "), snapshot.LastError);
        Assert.Equal(64, view.GetProperty("threads").GetProperty("limit").GetInt32());
        Assert.Contains("thread limit exceeded", view.GetProperty("lastError").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("leak-threads-while-starting", 64, 0, @"thread limit exceeded: \d+ threads > 64 in plugin 'starting''s process group while it started; it was killed\. Fix its thread or process leak")]
    [InlineData("hog-while-starting", 0, 160, @"memory limit exceeded: \d+ MiB > 160 MiB in plugin 'starting''s process group while it started; it was killed\. Raise limits\.memoryMiB")]
    // Past its handshake and Describe, in the host's start check: the watchdog holds it from the hand-over on.
    [InlineData("hog-in-configure", 0, 160, @"memory limit exceeded: \d+ MiB > 160 MiB in worker pid \d+'s process group\. Raise limits\.memoryMiB")]
    public async Task APluginOverItsLimitsBeforeItServes_IsKilledThen_NotAtItsStartTimeout(string mode, int maxThreads, int memoryMiB, string error)
    {
        // It never serves: unwatched until Ready, it ran over its limits for its whole start timeout.
        var manifest = PluginFolders.Test("starting", mode);
        manifest["limits"] = new JsonObject { ["startTimeoutSeconds"] = 20 };
        if (maxThreads > 0)
        {
            manifest["limits"]!["maxThreads"] = maxThreads;
        }

        if (memoryMiB > 0)
        {
            manifest["limits"]!["memoryMiB"] = memoryMiB;
        }

        await using var host = await TestHost.StartAsync([manifest], o => o.MaxRestarts = 0);
        host.ExpectErrors = true; // killed on purpose
        var started = DateTime.UtcNow;

        var snapshot = await host.WaitForStateAsync("starting", WorkerState.CrashLooping, TimeSpan.FromSeconds(30));

        Assert.Matches(error, snapshot.LastError);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), $"ended {DateTime.UtcNow - started} after the start: at its start timeout, not its limit");
    }

    [Fact]
    public async Task AWorkersThreads_AreShownAgainstTheDefaultLimit_AndAnAdminsLimitReplacesTheManifests()
    {
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["maxThreads"] = 500, ["cpus"] = 0.5 };
        var other = PluginFolders.Test("u");
        await using var host = await TestHost.StartAsync([manifest, other], o => o.PluginLimits["t"] = new() { MaxThreads = 200 });
        await host.WaitForStateAsync("t", WorkerState.Ready);
        await host.WaitForStateAsync("u", WorkerState.Ready);

        // A reading comes within the watchdog's interval of Ready.
        JsonElement view = default;
        await ReplicaTests.Until(async () => (view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t")).GetProperty("threads").GetProperty("count").GetInt32() > 0, "a reading of t's threads");
        var defaults = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/u");
        var metrics = await host.Client.GetStringAsync("/metrics");

        // A .NET worker runs a dozen or more threads of its own.
        Assert.InRange(view.GetProperty("threads").GetProperty("count").GetInt32(), 8, 200);
        Assert.Equal(200, view.GetProperty("threads").GetProperty("limit").GetInt32());
        // No pids cgroup given to this host: the watchdog holds the limit, and the view says so.
        Assert.Equal("watchdog", view.GetProperty("threads").GetProperty("enforcement").GetString());
        // A CPU limit with no cpu cgroup to hold it is said to be unenforced, not shown as if it were.
        Assert.Equal(0.5, view.GetProperty("cpu").GetProperty("limit").GetDouble());
        Assert.Equal("not enforced: the host has no PluginHost:CpuCgroupDirectory", view.GetProperty("cpu").GetProperty("enforcement").GetString());
        Assert.Equal("none", defaults.GetProperty("cpu").GetProperty("enforcement").GetString());
        // The CPU time a worker used is read for every plugin, held or not: a .NET start takes some.
        Assert.True(view.GetProperty("cpu").GetProperty("usedSeconds").GetDouble() > 0, view.GetProperty("cpu").ToString());
        Assert.Contains("maxThreads=200", view.GetProperty("limitsSetByHost").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1024, defaults.GetProperty("threads").GetProperty("limit").GetInt32());
        // A worker that starts no daemon has none counted in its group: no other process holds its token.
        Assert.Equal(0, view.GetProperty("helpers").GetInt32());
        Assert.Matches("plugin_threads_limit\\{[^}]*plugin=\"t\"[^}]*\\} 200", metrics);
        Assert.Matches("plugin_helpers\\{[^}]*plugin=\"t\"[^}]*\\} 0", metrics);
    }
}
