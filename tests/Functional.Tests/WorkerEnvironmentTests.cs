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
        var passed = PluginFolders.Test("passed");
        passed["env"] = new System.Text.Json.Nodes.JsonObject { ["CORECLR_PROFILER"] = "{11111111-2222-3333-4444-555555555555}" };
        var trace = Path.Combine(Path.GetTempPath(), $"gpt-{Guid.NewGuid():N}.nettrace");
        try
        {
            // As an APM agent sets up the host (a profiler that is not there only logs that it is not), and a
            // deployment traces it and lets a monitor find it (without suspend: nothing here would resume it).
            var agent = new Dictionary<string, string>
            {
                ["CORECLR_ENABLE_PROFILING"] = "1",
                ["CORECLR_PROFILER"] = "{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}",
                ["CORECLR_PROFILER_PATH"] = "/nonexistent/agent/profiler.so",
                ["CORECLR_PROFILER_PATH_64"] = "/nonexistent/agent/profiler.so",
                ["DOTNET_EnableEventPipe"] = "1",
                ["DOTNET_EventPipeOutputPath"] = trace,
                ["DOTNET_DiagnosticPorts"] = "/nonexistent/monitor.sock,nosuspend",
            };
            await using var host = await HostProcess.StartWithPluginsAsync([PluginFolders.Hello(), passed], agent);
            using var admin = host.AdminClient();
            await HostProcess.WaitForStateAsync(admin, "hello", "Ready");
            await HostProcess.WaitForStateAsync(admin, "passed", "Ready");

            var hello = ReadEnvironment(await HostProcess.PidOfAsync(admin, "hello"));
            var withOwn = ReadEnvironment(await HostProcess.PidOfAsync(admin, "passed"));

            Assert.Equal("1", ReadEnvironment(host.Pid)["CORECLR_ENABLE_PROFILING"]);
            Assert.All(agent.Keys, name => Assert.False(hello.ContainsKey(name), $"{name} reached the worker"));
            // The host's trace is the host's alone: a worker that traced too opened and truncated the same file.
            Assert.True(File.Exists(trace), "the host traces nothing: this test shows nothing");
            Assert.DoesNotContain(trace, OpenFiles(await HostProcess.PidOfAsync(admin, "hello")));
            // A manifest's env (or PluginHost:WorkerEnvironment) passes one on deliberately.
            Assert.Equal("{11111111-2222-3333-4444-555555555555}", withOwn["CORECLR_PROFILER"]);
            Assert.False(withOwn.ContainsKey("CORECLR_ENABLE_PROFILING"));
        }
        finally
        {
            File.Delete(trace);
        }
    }

    [Fact]
    public async Task TheHostsConfigurationInItsEnvironment_AdminKeysFirst_AndWhatItsAdminWithholds_ReachNoWorker()
    {
        const string opsKey = "0ps-adm1n-key-from-the-environment";
        var environment = new Dictionary<string, string>
        {
            // Admin keys as a deployment passes them, in the spellings .NET reads.
            ["PluginHost__AdminApiKeys__ops"] = opsKey,
            ["pluginhost__adminapikeys__lower"] = "l0wer-case-adm1n-key-from-the-env",
            ["ASPNETCORE_PluginHost__AdminApiKeys__prefixed"] = "pref1xed-adm1n-key-from-the-env",
            ["Kestrel__Limits__MaxConcurrentConnections"] = "10000",
            // The application's own secret, withheld by its admin; a vendor's variable, inherited.
            ["PluginHost__WorkerEnvironmentWithheld__0"] = "ConnectionStrings__",
            ["ConnectionStrings__Orders"] = "Host=db;Password=hunter2",
            ["VENDOR_LICENSE"] = "inherited",
        };
        await using var host = await HostProcess.StartWithPluginsAsync([PluginFolders.Hello(), PluginFolders.Test("t")], environment);
        using var admin = host.AdminClient();
        await HostProcess.WaitForStateAsync(admin, "hello", "Ready");
        await HostProcess.WaitForStateAsync(admin, "t", "Ready");
        using var withOpsKey = new HttpClient { BaseAddress = host.Address };
        withOpsKey.DefaultRequestHeaders.Add("X-Api-Key", opsKey);

        var workers = new[] { ReadEnvironment(await HostProcess.PidOfAsync(admin, "hello")), ReadEnvironment(await HostProcess.PidOfAsync(admin, "t")) };
        using var asOps = await withOpsKey.GetAsync("/admin/api/plugins");

        // The host itself read its key from its environment.
        Assert.Equal(System.Net.HttpStatusCode.OK, asOps.StatusCode);
        Assert.All(workers, worker =>
        {
            Assert.All(environment.Keys.Where(name => name != "VENDOR_LICENSE"), name => Assert.False(worker.ContainsKey(name), $"{name} reached a worker"));
            Assert.DoesNotContain(worker.Values, value => value.Contains("adm1n-key", StringComparison.Ordinal) || value.Contains("hunter2", StringComparison.Ordinal));
            Assert.Equal("inherited", worker["VENDOR_LICENSE"]);
        });
    }

    private static IEnumerable<string> OpenFiles(int pid) =>
        new DirectoryInfo($"/proc/{pid}/fd").EnumerateFileSystemInfos().Select(fd => fd.LinkTarget ?? string.Empty);

    private static Dictionary<string, string> ReadEnvironment(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ")
            .Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .GroupBy(pair => pair[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
}
