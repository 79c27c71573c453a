using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A plugin's data directory against its limit, on real workers writing real files: a plugin
/// over it is stopped and left stopped (a restart would free nothing), says why and how to fix
/// it, and comes back once an admin has emptied the directory or raised the limit; and the
/// limits an admin sets per plugin over its manifest's (PluginHost:PluginLimits), wherever a
/// limit is read.
/// </summary>
public sealed class DataLimitTests
{
    private static JsonObject WithDataLimit(string id, int mib)
    {
        var manifest = PluginFolders.Test(id);
        manifest["limits"] = new JsonObject { ["dataMiB"] = mib };
        return manifest;
    }

    /// <summary>
    /// The plugin writes <paramref name="bytes"/> into its data directory. Past its limit the
    /// watchdog may stop it mid-write (the answer is then 502), or after its answer's head left
    /// it but before its call ended (the host then aborts the response, the one honest signal
    /// once a status may be on the wire: the client sees the connection reset), so what is left
    /// is up to that size.
    /// </summary>
    internal static async Task WriteThroughThePluginAsync(TestHost host, string id, int bytes)
    {
        try
        {
            using var written = await host.Admin.PostAsync($"/plugins/{id}/data/note", new StringContent(new string('x', bytes)));
            Assert.True(written.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.BadGateway, $"writing {bytes} B: {written.StatusCode}");
        }
        catch (HttpRequestException ex) when (ex.InnerException is IOException)
        {
            // Stopped after its head: seen once in a whole suite's run on two busy cores.
        }
    }

    private static Task<TestHost> StartAsync(params JsonObject[] plugins) =>
        TestHost.StartAsync(plugins, o => o.DataCheckInterval = TimeSpan.FromMilliseconds(100));

    [Fact]
    public async Task PluginFillingItsDataDirectory_IsHaltedNotRestarted_AndComesBackOnceAnAdminEmptiesIt()
    {
        await using var host = await StartAsync(WithDataLimit("d", 1));
        host.ExpectErrors = true; // the halt is logged as an error
        var ready = await host.WaitForStateAsync("d", WorkerState.Ready);
        await WriteThroughThePluginAsync(host, "d", 2 * 1024 * 1024);

        var halted = await host.WaitForStateAsync("d", WorkerState.Halted);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/d");
        await Task.Delay(500); // a restart, had one been scheduled, would start within the first backoff step
        var directory = Path.Combine(host.Root, "state", "data", "d");

        Assert.Equal(WorkerState.Halted, host.Supervisor("d").State);
        Assert.Equal(0, host.Supervisor("d").Snapshot.Restarts);
        Assert.False(Liveness.IsAlive(ready.Pid!.Value));
        Assert.Matches($@"^data limit exceeded: [\d.]+ MiB in {System.Text.RegularExpressions.Regex.Escape(directory)} > 1 MiB \(limits\.dataMiB\)", halted.LastError);
        Assert.Contains("DELETE /admin/api/plugins/d/data", halted.LastError, StringComparison.Ordinal);
        Assert.Equal("Unhealthy", view.GetProperty("health").GetString());
        Assert.InRange(view.GetProperty("dataBytes").GetInt64(), 1024 * 1024 + 1, 2 * 1024 * 1024);
        Assert.Equal(1024 * 1024, view.GetProperty("dataLimitBytes").GetInt64());
        Assert.Contains(view.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "halted");

        // A restart while still over the limit is checked before any worker is spawned.
        var seen = new System.Collections.Concurrent.ConcurrentQueue<WorkerSnapshot>();
        host.Supervisor("d").StateChanged += seen.Enqueue;
        (await host.Admin.PostAsync("/admin/api/plugins/d/restart", null)).EnsureSuccessStatusCode();
        await SupervisorTests.WaitUntilAsync(() => seen.Any(s => s.State == WorkerState.Halted), TimeSpan.FromSeconds(20));
        Assert.Equal([WorkerState.Starting, WorkerState.Halted], seen.Select(s => s.State));
        Assert.All(seen, s => Assert.Null(s.Pid));

        // What holds the bytes, largest first, for the admin deciding what to do.
        Directory.CreateDirectory(Path.Combine(directory, "cache", "deep"));
        await File.WriteAllBytesAsync(Path.Combine(directory, "cache", "deep", "blob"), new byte[1000]);
        var listing = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/d/data");
        var entries = listing.GetProperty("entries").EnumerateArray().Select(e => (e.GetProperty("name").GetString(), e.GetProperty("bytes").GetInt64())).ToList();
        Assert.Equal("note.txt", entries[0].Item1);
        Assert.Equal(("cache/", 1000L), entries[1]);
        Assert.Equal(entries[0].Item2 + 1000, listing.GetProperty("bytes").GetInt64());
        Assert.Equal(1024 * 1024, listing.GetProperty("limitBytes").GetInt64());

        using var emptied = await host.Admin.DeleteAsync("/admin/api/plugins/d/data");
        var answer = await emptied.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, emptied.StatusCode);
        var freed = answer.GetProperty("freedBytes").GetInt64();
        Assert.Equal(listing.GetProperty("bytes").GetInt64(), freed);
        Assert.True(Directory.Exists(directory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
        Assert.Equal(0, host.Supervisor("d").Snapshot.DataBytes);

        (await host.Admin.PostAsync("/admin/api/plugins/d/restart", null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("d", WorkerState.Ready);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Admin.GetAsync("/plugins/d/data/note")).StatusCode);

        var audit = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?plugin=d&action=plugin.data.delete")).GetProperty("entries");
        Assert.Equal(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"emptied {directory}: {freed / 1048576.0:0.#} MiB freed"), Assert.Single(audit.EnumerateArray()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task EmptyingTheDataOfARunningPlugin_IsRefused_AndKeepsItsFiles()
    {
        await using var host = await StartAsync(WithDataLimit("d", 64));
        await host.WaitForStateAsync("d", WorkerState.Ready);
        (await host.Admin.PostAsync("/plugins/d/data/note", new StringContent("kept"))).EnsureSuccessStatusCode();

        using var refused = await host.Admin.DeleteAsync("/admin/api/plugins/d/data");
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        // Running: Ready, or Unhealthy for a moment if a busy machine delayed a health probe.
        Assert.Matches("'d' is (Ready|Unhealthy); its data directory is emptied only while no worker of it runs", problem.GetProperty("detail").GetString());
        Assert.Contains("Disable it", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("kept", await host.Admin.GetStringAsync("/plugins/d/data/note"));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Admin.DeleteAsync("/admin/api/plugins/nope/data")).StatusCode);
    }

    [Fact]
    public async Task APluginUnderItsLimit_ShowsWhatItsDataDirectoryHolds_AndKeepsRunning()
    {
        await using var host = await StartAsync(WithDataLimit("d", 4));
        var ready = await host.WaitForStateAsync("d", WorkerState.Ready);
        (await host.Admin.PostAsync("/plugins/d/data/note", new StringContent(new string('x', 1024 * 1024)))).EnsureSuccessStatusCode();

        await SupervisorTests.WaitUntilAsync(() => host.Supervisor("d").Snapshot.DataBytes == 1024 * 1024, TimeSpan.FromSeconds(20));
        var metrics = await host.Admin.GetStringAsync("/metrics");

        Assert.Equal(WorkerState.Ready, host.Supervisor("d").State);
        Assert.Equal(ready.Pid, host.Supervisor("d").Snapshot.Pid);
        Assert.Equal("4194304", await host.Admin.GetStringAsync("/plugins/d/data/limit"));
        Assert.Matches("plugin_data_bytes\\{[^}]*plugin=\"d\"[^}]*\\} 1048576", metrics);
        Assert.Matches("plugin_data_limit_bytes\\{[^}]*plugin=\"d\"[^}]*\\} 4194304", metrics);
    }

    [Fact]
    public async Task LimitsTheHostSetsForAPlugin_WinOverItsManifest_WhereverALimitIsRead()
    {
        var manifest = PluginFolders.Test("d", "hang-in-hook");
        manifest["limits"] = new JsonObject { ["dataMiB"] = 64, ["maxConcurrentCalls"] = 100 };
        await using var host = await TestHost.StartAsync([manifest], o =>
        {
            o.DataCheckInterval = TimeSpan.FromMilliseconds(100);
            o.PluginLimits["d"] = new Host.Hosting.PluginLimitsOptions { DataMiB = 1, MaxConcurrentCalls = 3, CallTimeoutMs = 300 };
        });
        host.ExpectErrors = true; // the halt is logged as an error
        await host.WaitForStateAsync("d", WorkerState.Ready);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/d");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));

        // The point's deadline is 2 s; the host's 300 ms for this plugin cut the hanging call.
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1.5));
        Assert.Equal(Host.Calls.CallFailureKind.TimedOut, Assert.Single(Assert.IsType<Host.Hooks.HookOutcome.Continued>(outcome).Skipped).Kind);
        Assert.Equal(["dataMiB=1", "callTimeoutMs=300", "maxConcurrentCalls=3"], view.GetProperty("limitsSetByHost").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(3, view.GetProperty("calls").GetProperty("limit").GetInt32());
        Assert.Equal(1024 * 1024, view.GetProperty("dataLimitBytes").GetInt64());

        await WriteThroughThePluginAsync(host, "d", 2 * 1024 * 1024);
        var halted = await host.WaitForStateAsync("d", WorkerState.Halted);
        Assert.Contains("> 1 MiB (limits.dataMiB)", halted.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAdminRaisesAHaltedPluginsLimitInTheConfiguration_AndRestartsThatPluginAlone()
    {
        await using var host = await StartAsync(WithDataLimit("d", 1), PluginFolders.Test("other"));
        host.ExpectErrors = true; // the halt is logged as an error
        await host.WaitForStateAsync("d", WorkerState.Ready);
        var other = await host.WaitForStateAsync("other", WorkerState.Ready);
        // Written as the plugin would, whole, so that what it reads back after its restart is known.
        await File.WriteAllTextAsync(Path.Combine(host.Root, "state", "data", "d", "note.txt"), new string('x', 2 * 1024 * 1024));
        await host.WaitForStateAsync("d", WorkerState.Halted);
        var file = Path.Combine(host.Root, "limits.json");
        await File.WriteAllTextAsync(file, """{"PluginHost": {"PluginLimits": {"d": {"DataMiB": 4}}}}""");
        // As a host reading appsettings.json: a file the configuration watches.
        ((IConfigurationBuilder)host.Services.GetRequiredService<IConfiguration>()).AddJsonFile(file, optional: false, reloadOnChange: true);
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<Host.Hosting.PluginHostOptions>>();
        await SupervisorTests.WaitUntilAsync(() => monitor.CurrentValue.PluginLimits.ContainsKey("d"), TimeSpan.FromSeconds(20));

        (await host.Admin.PostAsync("/admin/api/plugins/d/restart", null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("d", WorkerState.Ready);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/d");

        Assert.Equal(4 * 1024 * 1024, view.GetProperty("dataLimitBytes").GetInt64());
        Assert.Equal(["dataMiB=4"], view.GetProperty("limitsSetByHost").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2 * 1024 * 1024, (await host.Admin.GetStringAsync("/plugins/d/data/note")).Length);
        Assert.Equal(other.Pid, host.Supervisor("other").Snapshot.Pid);

        // An edit the start would refuse changes nothing, and the restart says why.
        await File.WriteAllTextAsync(file, """{"PluginHost": {"PluginLimits": {"d": {"DataMiB": 0}}}}""");
        await SupervisorTests.WaitUntilAsync(() => Throws(() => _ = monitor.CurrentValue), TimeSpan.FromSeconds(20));
        using var refused = await host.Admin.PostAsync("/admin/api/plugins/d/restart", null);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("the host's configuration now has errors", problem, StringComparison.Ordinal);
        Assert.Contains("PluginHost:PluginLimits:d:DataMiB: 0 must be 1 or more", problem, StringComparison.Ordinal);
        Assert.Equal(WorkerState.Ready, host.Supervisor("d").State);
    }

    private static bool Throws(Action action)
    {
        try
        {
            action();
            return false;
        }
        catch (OptionsValidationException)
        {
            return true;
        }
    }

    [Fact]
    public async Task LimitsForAnIdNoPluginHas_AreNamedInAWarning_InCaseOfATypo()
    {
        var warnings = new ErrorLogCollector(Microsoft.Extensions.Logging.LogLevel.Warning);
        await using var host = await TestHost.StartAsync(
            [PluginFolders.Test("d")],
            o => o.PluginLimits["dd"] = new Host.Hosting.PluginLimitsOptions { DataMiB = 2 },
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(warnings));
        await host.WaitForStateAsync("d", WorkerState.Ready);

        Assert.Contains(warnings.Errors, w => w.Contains("PluginHost:PluginLimits names 'dd', which is not installed (installed: d)", StringComparison.Ordinal));
        Assert.Equal(1024L * 1024 * 1024, host.Supervisor("d").Snapshot.DataLimitBytes); // the host's default, not the misnamed figure
    }
}
