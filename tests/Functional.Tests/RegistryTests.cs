using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

public sealed class RegistryTests
{
    [Fact]
    public async Task APluginsDirectoryThatIsNotThere_IsNamedInAWarning_AndTheHostStartsWithoutPlugins()
    {
        var warnings = new ErrorLogCollector(Microsoft.Extensions.Logging.LogLevel.Warning);
        string? missing = null;
        await using var host = await TestHost.StartAsync([], o => o.PluginsDirectory = missing = Path.Combine(Path.GetDirectoryName(o.PluginsDirectory)!, "plugins-typo"), services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(warnings));

        Assert.Contains(warnings.Errors, w => w.Contains($"PluginHost:PluginsDirectory '{missing}' does not exist", StringComparison.Ordinal));
        Assert.Empty((await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins")).EnumerateArray());
    }

    [Fact]
    public async Task RefusedPlugins_AreListedWithTheirReasons_AndTheRestRun()
    {
        var missingDependency = PluginFolders.Test("needs-ghost");
        missingDependency["dependencies"] = new JsonArray(new JsonObject { ["id"] = "ghost", ["version"] = "[1.0.0, 2.0.0)" });
        var dependent = PluginFolders.Test("uses-t");
        dependent["dependencies"] = new JsonArray(new JsonObject { ["id"] = "t", ["version"] = "1.0.0" });
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"), missingDependency, dependent);
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
        await Task.WhenAll(host.WaitForStateAsync("t", WorkerState.Ready), host.WaitForStateAsync("uses-t", WorkerState.Ready));

        var list = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins");

        var ghost = list.EnumerateArray().Single(p => p.GetProperty("id").GetString() == "needs-ghost");
        Assert.Equal("Refused", ghost.GetProperty("state").GetString());
        Assert.Contains("depends on 'ghost'", ghost.GetProperty("refusal")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("Ready", list.EnumerateArray().Single(p => p.GetProperty("id").GetString() == "uses-t").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Dependent_IsSpawnedOnlyOnceItsDependencyIsReady_WithoutHoldingUpTheHost()
    {
        var slowBase = PluginFolders.Test("base", "slow-start", "1500");
        var app = PluginFolders.Test("app");
        app["dependencies"] = new JsonArray(new JsonObject { ["id"] = "base", ["version"] = "1.0.0" });
        var started = DateTimeOffset.UtcNow;
        await using var host = await TestHost.StartAsync(slowBase, app);

        // The host serves while base is still starting, and says why app waits.
        Assert.NotEqual(WorkerState.Ready, host.Supervisor("base").Snapshot.State);
        var waiting = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/app");
        Assert.Equal("waiting for its dependencies to be Ready: base", waiting.GetProperty("lifecycleReason").GetString());
        await host.WaitForStateAsync("app", WorkerState.Ready);

        var baseReady = host.Supervisor("base").Snapshot.ReadySince!.Value;
        var appSpawned = host.Supervisor("app").ReadyWorker!.Process.StartedAt;
        Assert.True(appSpawned >= baseReady, $"app was spawned at {appSpawned:O}, before base was Ready at {baseReady:O}");
        Assert.True(baseReady - started > TimeSpan.FromSeconds(1.5), "base did not start slowly, so the test proves nothing");
    }

    [Fact]
    public async Task Dependent_StartsAnyway_WhenItsDependencyCrashLoops()
    {
        var broken = PluginFolders.Test("base", "crash-at-start");
        var app = PluginFolders.Test("app");
        app["dependencies"] = new JsonArray(new JsonObject { ["id"] = "base", ["version"] = "1.0.0" });
        await using var host = await TestHost.StartAsync([broken, app], o => o.MaxRestarts = 1);
        host.ExpectErrors = true; // base crashes on purpose

        await host.WaitForStateAsync("base", WorkerState.CrashLooping);
        await host.WaitForStateAsync("app", WorkerState.Ready);
    }

    [Fact]
    public async Task DuplicateId_TheFirstFolderWins_TheOtherIsRefused()
    {
        var root = Directory.CreateTempSubdirectory("gpt-dup-").FullName;
        PluginFolders.Write(Path.Combine(root, "plugins"), PluginFolders.Test("same"), "a-first");
        PluginFolders.Write(Path.Combine(root, "plugins"), PluginFolders.Test("same"), "b-second");
        await using var host = await TestHost.StartAsync([], null, root);
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
        await host.WaitForStateAsync("same", WorkerState.Ready);

        var list = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins");

        var refused = list.EnumerateArray().Single(p => p.GetProperty("state").GetString() == "Refused");
        Assert.Contains("duplicate id 'same'", refused.GetProperty("refusal")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("a-first", refused.GetProperty("refusal")[0].GetString(), StringComparison.Ordinal);
        Assert.EndsWith("a-first", host.Catalog.Find("same")!.Folder, StringComparison.Ordinal);
    }
}
