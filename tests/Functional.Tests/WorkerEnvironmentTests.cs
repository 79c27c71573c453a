using System.Net.Http.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>PluginHost:WorkerEnvironment and a manifest's env, read back from a real worker's /proc/PID/environ.</summary>
public sealed class WorkerEnvironmentTests
{
    [Fact]
    public async Task WorkerEnvironment_ReachesTheWorker_AndOverridesTheHostsDotnetDefaults()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("env")], o =>
        {
            o.WorkerEnvironment["DOTNET_TieredPGO"] = "0";
            o.WorkerEnvironment["DOTNET_GCHeapHardLimit"] = "10000000";
        });
        await host.WaitForStateAsync("env", WorkerState.Ready);

        var environment = ReadEnvironment(host.Supervisor("env").Snapshot.Pid!.Value);

        Assert.Equal("0", environment["DOTNET_TieredPGO"]);
        Assert.Equal("10000000", environment["DOTNET_GCHeapHardLimit"]);
        Assert.Equal("0", environment["DOTNET_gcServer"]);
        Assert.Equal("env", environment["PLUGIN_ID"]);
        // No CPU limit: nothing said of one.
        Assert.False(environment.ContainsKey("PLUGIN_CPU_LIMIT"));
    }

    [Fact]
    public async Task AManifestsEnv_ReachesItsWorker_WithItsFolder_AndTheHostsWorkerEnvironmentWins()
    {
        var manifest = PluginFolders.Test("env");
        manifest["env"] = new System.Text.Json.Nodes.JsonObject { ["VENDOR_HOME"] = "${pluginDir}/native", ["DOTNET_TieredPGO"] = "1", ["GOMAXPROCS"] = "4" };
        manifest["limits"] = new System.Text.Json.Nodes.JsonObject { ["cpus"] = 1.5 };
        await using var host = await TestHost.StartAsync([manifest], o => o.WorkerEnvironment["DOTNET_TieredPGO"] = "0");
        await host.WaitForStateAsync("env", WorkerState.Ready);

        var environment = ReadEnvironment(host.Supervisor("env").Snapshot.Pid!.Value);

        Assert.Equal(Path.Combine(host.PluginsDirectory, "env", "native"), environment["VENDOR_HOME"]);
        Assert.Equal("0", environment["DOTNET_TieredPGO"]);
        // The host's GOMAXPROCS for its CPU limit (2) is a default the plugin's author may replace.
        Assert.Equal("4", environment["GOMAXPROCS"]);
        Assert.Equal("1.5", environment["PLUGIN_CPU_LIMIT"]);
    }

    [Fact]
    public async Task WhatAnAgentInjectsIntoTheHostsRuntime_DoesNotReachItsWorkers_UnlessTheHostPassesItOn()
    {
        var root = Directory.CreateTempSubdirectory("gpt-agent-").FullName;
        try
        {
            PluginFolders.Write(Path.Combine(root, "plugins"), PluginFolders.Hello());
            var passed = PluginFolders.Test("passed");
            passed["env"] = new System.Text.Json.Nodes.JsonObject { ["CORECLR_PROFILER"] = "{11111111-2222-3333-4444-555555555555}" };
            PluginFolders.Write(Path.Combine(root, "plugins"), passed);
            // As an APM agent sets up the host (a profiler that is not there only logs that it is not).
            var agent = new Dictionary<string, string>
            {
                ["CORECLR_ENABLE_PROFILING"] = "1",
                ["CORECLR_PROFILER"] = "{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}",
                ["CORECLR_PROFILER_PATH"] = "/nonexistent/agent/profiler.so",
                ["CORECLR_PROFILER_PATH_64"] = "/nonexistent/agent/profiler.so",
            };
            await using var host = await HostProcess.StartAsync(root, agent);
            using var admin = host.AdminClient();
            await HostProcess.WaitForStateAsync(admin, "hello", "Ready");
            await HostProcess.WaitForStateAsync(admin, "passed", "Ready");

            var hello = ReadEnvironment(await HostProcess.PidOfAsync(admin, "hello"));
            var withOwn = ReadEnvironment(await HostProcess.PidOfAsync(admin, "passed"));

            Assert.Equal("1", ReadEnvironment(host.Pid)["CORECLR_ENABLE_PROFILING"]);
            Assert.All(agent.Keys, name => Assert.False(hello.ContainsKey(name), $"{name} reached the worker"));
            // A manifest's env (or PluginHost:WorkerEnvironment) passes one on deliberately.
            Assert.Equal("{11111111-2222-3333-4444-555555555555}", withOwn["CORECLR_PROFILER"]);
            Assert.False(withOwn.ContainsKey("CORECLR_ENABLE_PROFILING"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static Dictionary<string, string> ReadEnvironment(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ")
            .Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .GroupBy(pair => pair[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
}
