using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>What process isolation buys: private dependency versions, private native code, private crashes.</summary>
public sealed class IsolationTests
{
    private static JsonObject Assembly(string id, string project, string assembly, string route) => new()
    {
        ["id"] = id,
        ["version"] = "1.0.0",
        ["assembly"] = TestPaths.Example(project, assembly),
        ["routes"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = route, ["anonymous"] = true }),
    };

    [Fact]
    public async Task TwoPlugins_LoadTwoMajorVersionsOfALibraryTheHostAlsoUses_AtTheSameTime()
    {
        await using var host = await TestHost.StartAsync(
            Assembly("json-old", "examples/isolation/json-old", "JsonOld.dll", "/version"),
            Assembly("json-new", "examples/isolation/json-new", "JsonNew.dll", "/version"));
        await Task.WhenAll(host.WaitForStateAsync("json-old", WorkerState.Ready), host.WaitForStateAsync("json-new", WorkerState.Ready));

        var old = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/json-old/version");
        var @new = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/json-new/version");
        var hosts = typeof(Newtonsoft.Json.JsonConvert).Assembly.GetName().Version!;

        Assert.Equal("12.0.0.0", old.GetProperty("newtonsoftJson").GetString());
        Assert.Equal("13.0.0.0", @new.GetProperty("newtonsoftJson").GetString());
        Assert.Equal(13, hosts.Major);
        Assert.NotEqual(old.GetProperty("pid").GetInt32(), @new.GetProperty("pid").GetInt32());
    }

    [Fact]
    public async Task Connector_AnswersWithAValueComputedInItsOwnNativeLibrary_AndKeepsItsQueryLogInItsDataDirectory()
    {
        await using var host = await TestHost.StartAsync(Assembly("sqlite-connector", "examples/sqlite-connector", "SqliteConnector.dll", "/query"));
        var first = await host.WaitForStateAsync("sqlite-connector", WorkerState.Ready);

        var answer = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/sqlite-connector/query");
        var second = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/sqlite-connector/query");
        (await host.Admin.PostAsync("/admin/api/plugins/sqlite-connector/restart", null)).EnsureSuccessStatusCode();
        await SupervisorTests.WaitUntilAsync(() => host.Supervisor("sqlite-connector").Snapshot is { State: WorkerState.Ready } now && now.Pid != first.Pid, TimeSpan.FromSeconds(30));
        var afterRestart = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/sqlite-connector/query");

        Assert.Equal(42, answer.GetProperty("answer").GetInt64());
        Assert.Matches(@"^3\.\d+\.\d+", answer.GetProperty("sqliteVersion").GetString());
        Assert.Equal([1L, 2L, 3L], new[] { answer, second, afterRestart }.Select(a => a.GetProperty("queriesSoFar").GetInt64()));
        Assert.Equal(1024L * 1024 * 1024, answer.GetProperty("dataLimitBytes").GetInt64());
        Assert.True(File.Exists(Path.Combine(host.Root, "state", "data", "sqlite-connector", "queries.db")));
    }

    [Fact]
    public async Task CrashInNativeCode_TakesDownOnlyItsWorker()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("native"), PluginFolders.Hello());
        var first = await host.WaitForStateAsync("native", WorkerState.Ready);
        await host.WaitForStateAsync("hello", WorkerState.Ready);

        var crashed = await host.Admin.GetAsync("/plugins/native/abort");

        Assert.Equal(HttpStatusCode.BadGateway, crashed.StatusCode);
        Assert.Equal("crashed", crashed.Headers.GetValues("X-Plugin-Error").Single());
        (await host.Client.GetAsync("/plugins/hello/ping")).EnsureSuccessStatusCode();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (host.Supervisor("native").Snapshot is var s && (s.State != WorkerState.Ready || s.Pid == first.Pid) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var snapshot = host.Supervisor("native").Snapshot;
        Assert.Equal(WorkerState.Ready, snapshot.State);
        Assert.Equal(6, snapshot.LastExit!.Signal);
    }
}
