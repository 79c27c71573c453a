using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Install, upgrade and uninstall at runtime through the admin API, from signed bundles.</summary>
public sealed class InstallUpgradeTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("gpt-upgrade-").FullName;
    private readonly SignedBundles _bundles;

    public InstallUpgradeTests() => _bundles = new SignedBundles(_work);

    [Fact]
    public async Task Upgrade_UnderLoad_FailsNoCall_AndABrokenUpgradeLeavesTheOldVersionServing()
    {
        await using var host = await StrictHostAsync();
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors

        // Install 1.0.0: the host asks for consent to the plugin's permissions first.
        var preview = await UploadAsync(host, Bundle("1.0.0"));
        Assert.Equal("install", preview.GetProperty("action").GetString());
        Assert.Equal("settings.read", preview.GetProperty("permissions")[0].GetString());
        var address = preview.GetProperty("address").GetString();
        var noConsent = await host.Admin.PostAsync($"/admin/api/bundles/{address}/install", null);
        Assert.Equal(HttpStatusCode.Conflict, noConsent.StatusCode);
        (await host.Admin.PostAsync($"/admin/api/bundles/{address}/install?accept=settings.read", null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("up", WorkerState.Ready);

        // Load on hooks and routes while 2.0.0 replaces it.
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var calls = 0;
        var load = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (i % 2 == 0)
                {
                    var outcome = await host.Hooks.DispatchAsync(TestHost.RequestClosed, WalkingSkeletonTests.Input("x"));
                    if (outcome is not HookOutcome.Continued)
                    {
                        failures.Enqueue($"hook: {outcome}");
                    }
                }
                else if (await host.Admin.GetAsync("/plugins/up/whoami") is { IsSuccessStatusCode: false } answer)
                {
                    failures.Enqueue($"route: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
                }

                Interlocked.Increment(ref calls);
            }
        })).ToList();
        await Task.Delay(300);
        var upgrade = await UploadAsync(host, Bundle("2.0.0"));
        Assert.Equal("upgrade", upgrade.GetProperty("action").GetString());
        var upgraded = await host.Admin.PostAsync($"/admin/api/bundles/{upgrade.GetProperty("address").GetString()}/install?accept=settings.read", null);
        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Equal(HttpStatusCode.OK, upgraded.StatusCode);
        Assert.True(calls > 50, $"only {calls} calls ran");
        Assert.Empty(failures);
        Assert.Equal("2.0.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());

        // A version that cannot start leaves 2.0.0 serving, and says why; the scope it came with is not kept.
        var broken = await UploadAsync(host, Bundle("3.0.0", "crash-at-start"));
        var refused = await host.Admin.PostAsync($"/admin/api/bundles/{broken.GetProperty("address").GetString()}/install?accept=settings.read", SettingsAndAdminTests.Json("""{"tenantScope": {"only": ["acme"]}}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("2.0.0 keeps serving", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("2.0.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());
        Assert.Equal("every tenant", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/tenant-scope")).GetProperty("takes").GetString());

        var installs = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/installs");
        Assert.Equal(["1.0.0", "2.0.0"], installs.EnumerateArray().Select(r => r.GetProperty("version").GetString()));
        Assert.Equal("admin", installs[1].GetProperty("by").GetString());
    }

    [Fact]
    public async Task Uninstall_WithAKeepSettingsNeitherTrueNorFalse_IsRefusedSayingWhatItTakes_AndRemovesNothing()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")]);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var refused = await host.Admin.DeleteAsync("/admin/api/plugins/t?keepSettings=no");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Nothing was uninstalled: 'keepSettings' is 'no'; it takes true", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotNull(host.Catalog.Find("t"));
        Assert.Equal(WorkerState.Ready, host.Supervisor("t").Snapshot.State);
    }

    [Fact]
    public async Task Uninstall_StopsTheWorker_RemovesTheFiles_AndCanDeleteTheSettings()
    {
        await using var host = await StrictHostAsync();
        var bundle = Bundle("1.0.0");
        var preview = await UploadAsync(host, bundle);
        (await host.Admin.PostAsync($"/admin/api/bundles/{preview.GetProperty("address").GetString()}/install?accept=settings.read", null)).EnsureSuccessStatusCode();
        var ready = await host.WaitForStateAsync("up", WorkerState.Ready);
        var folder = host.Catalog.Find("up")!.Folder;
        (await host.Admin.PutAsync("/admin/api/plugins/up/tenant-scope", SettingsAndAdminTests.Json("""{"only": ["acme"]}"""))).EnsureSuccessStatusCode();

        var deleted = await host.Admin.DeleteAsync("/admin/api/plugins/up?keepSettings=false");
        var gone = await host.Admin.GetAsync("/plugins/up/whoami");
        var folderRemoved = !Directory.Exists(folder);
        // Installed again, it starts afresh: what was deleted with the settings is not back.
        await InstallAsync(host, bundle);
        var scope = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/tenant-scope");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.True(folderRemoved);
        Assert.False(Liveness.IsAlive(ready.Pid!.Value));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("every tenant", scope.GetProperty("takes").GetString());
    }

    [Fact]
    public async Task APluginsDataDirectory_IsItsOwn_OutlivesARestartAnUpgradeAndAnUninstallKeepingSettings_AndGoesWithThem()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, Bundle("1.0.0"));
        var first = await host.WaitForStateAsync("up", WorkerState.Ready);
        var directory = Path.Combine(host.Root, "state", "data", "up");
        (await host.Admin.PostAsync("/plugins/up/data/note", new StringContent("kept"))).EnsureSuccessStatusCode();
        var mode = File.GetUnixFileMode(directory);
        var shown = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up")).GetProperty("dataDirectory").GetString();

        (await host.Admin.PostAsync("/admin/api/plugins/up/restart", null)).EnsureSuccessStatusCode();
        await host.WaitForAsync("up", s => s.State == WorkerState.Ready && s.Pid != first.Pid, "a new worker");
        var afterRestart = await host.Admin.GetStringAsync("/plugins/up/data/note");
        var upgrade = Bundle("2.0.0");
        await InstallAsync(host, upgrade);
        await host.WaitForStateAsync("up", WorkerState.Ready);
        var afterUpgrade = await host.Admin.GetStringAsync("/plugins/up/data/note");
        (await host.Admin.DeleteAsync("/admin/api/plugins/up?keepSettings=true")).EnsureSuccessStatusCode();
        var keptWithTheSettings = Directory.Exists(directory);
        await InstallAsync(host, upgrade);
        await host.WaitForStateAsync("up", WorkerState.Ready);
        var afterReinstall = await host.Admin.GetStringAsync("/plugins/up/data/note");
        (await host.Admin.DeleteAsync("/admin/api/plugins/up?keepSettings=false")).EnsureSuccessStatusCode();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, mode);
        Assert.Equal(directory, shown);
        Assert.Equal("kept", afterRestart);
        Assert.Equal("kept", afterUpgrade);
        Assert.True(keptWithTheSettings);
        Assert.Equal("kept", afterReinstall);
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task AnInstallGivenATenantScope_HoldsItWhenItReturns_AndABadOneInstallsNothing()
    {
        await using var host = await StrictHostAsync();
        var address = (await UploadAsync(host, Bundle("1.0.0"))).GetProperty("address").GetString();
        var path = $"/admin/api/bundles/{address}/install?accept=settings.read";

        using var bad = await host.Admin.PostAsync(path, SettingsAndAdminTests.Json("""{"tenantScope": {"only": "acme"}, "colour": 1}"""));
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        var afterBad = host.Catalog.Find("up");
        using var good = await host.Admin.PostAsync(path, SettingsAndAdminTests.Json("""{"tenantScope": {"only": ["acme"]}}"""));
        var scope = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/tenant-scope");

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(
            ["$.colour: not an install option; the only one is 'tenantScope'.", "$.tenantScope.only: write a list of tenant ids, e.g. {\"only\": [\"acme\", \"globex\"]}, {\"except\": [\"initech\"]} or {} for every tenant."],
            problem.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        Assert.Null(afterBad);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal("only acme", scope.GetProperty("takes").GetString());
    }

    [Fact]
    public async Task UninstallOrUpgrade_ThatWouldBreakAnInstalledDependent_IsRefusedNamingIt_AndChangesNothing()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, Bundle("1.0.0"));
        await InstallAsync(host, _bundles.Pack("down", "1.0.0", ["normal"], [("up", "[1.0.0, 2.0.0)")]));
        var ready = await host.WaitForStateAsync("up", WorkerState.Ready);
        await host.WaitForStateAsync("down", WorkerState.Ready);

        var uninstall = await host.Admin.DeleteAsync("/admin/api/plugins/up");
        var upgrade = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(Bundle("2.0.0"))));

        Assert.Equal(HttpStatusCode.Conflict, uninstall.StatusCode);
        Assert.Contains("dependency of 'down'", await uninstall.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, upgrade.StatusCode);
        var refusal = await upgrade.Content.ReadAsStringAsync();
        Assert.Contains("installed plugin 'down' would be refused", refusal, StringComparison.Ordinal);
        Assert.Contains("but 2.0.0 is installed", refusal, StringComparison.Ordinal);
        Assert.Equal(ready.Pid, host.Supervisor("up").Snapshot.Pid);
        Assert.True(Directory.Exists(host.Catalog.Find("up")!.Folder));

        // Within the dependent's range the upgrade goes ahead; without dependents the uninstall does.
        await InstallAsync(host, Bundle("1.5.0"));
        Assert.Equal(HttpStatusCode.NoContent, (await host.Admin.DeleteAsync("/admin/api/plugins/down")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await host.Admin.DeleteAsync("/admin/api/plugins/up")).StatusCode);
    }

    [Fact]
    public async Task Install_OfADependentWhileItsDependencyIsStarting_SpawnsItOnlyOnceTheDependencyIsReady()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, _bundles.Pack("base", "1.0.0", ["slow-start", "3000"], []));

        await InstallAsync(host, _bundles.Pack("app", "1.0.0", ["normal"], [("base", "1.0.0")]));

        var waiting = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/app");
        Assert.NotEqual(WorkerState.Ready, host.Supervisor("base").Snapshot.State);
        Assert.Equal("waiting for its dependencies to be Ready: base", waiting.GetProperty("lifecycleReason").GetString());
        await host.WaitForStateAsync("app", WorkerState.Ready);
        var baseReady = host.Supervisor("base").Snapshot.ReadySince!.Value;
        var appSpawned = host.Supervisor("app").ReadyWorker!.Process.StartedAt;
        Assert.True(appSpawned >= baseReady, $"app was spawned at {appSpawned:O}, before base was Ready at {baseReady:O}");
    }

    [Fact]
    public async Task Reinstall_OfAPluginRefusedAsModified_ReplacesTheRefusedCopy_AndServes()
    {
        var kept = Directory.CreateDirectory(Path.Combine(_work, "kept")).FullName;
        var bundle = Bundle("1.0.0");
        string tampered;
        await using (var first = await StrictHostAsync(kept))
        {
            await InstallAsync(first, bundle);
            await first.WaitForStateAsync("up", WorkerState.Ready);
            tampered = first.Catalog.Find("up")!.Folder;
        }

        await File.AppendAllTextAsync(Path.Combine(tampered, "TestPlugin.deps.json"), " ");
        await using (var second = await StrictHostAsync(kept))
        {
            second.ExpectErrors = true; // the modified copy is refused at load
            var refused = await second.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");
            Assert.StartsWith("modified:", refused.GetProperty("refusal")[0].GetString(), StringComparison.Ordinal);

            await InstallAsync(second, bundle);

            await second.WaitForStateAsync("up", WorkerState.Ready);
            Assert.Equal("1.0.0", (await second.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());
            Assert.Single(second.Catalog.Entries, e => e.Id == "up");
            Assert.Single(Directory.GetDirectories(Path.Combine(kept, "plugins"), "up-*"));
        }

        await using var third = await StrictHostAsync(kept);
        await third.WaitForStateAsync("up", WorkerState.Ready);
    }

    [Fact]
    public async Task Upgrade_OfADisabledPlugin_StaysDisabled_AndEnableStartsTheNewVersion()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, Bundle("1.0.0"));
        await host.WaitForStateAsync("up", WorkerState.Ready);
        (await host.Admin.PostAsync("/admin/api/plugins/up/disable", null)).EnsureSuccessStatusCode();

        var preview = await UploadAsync(host, Bundle("2.0.0"));
        var upgrade = await host.Admin.PostAsync($"/admin/api/bundles/{preview.GetProperty("address").GetString()}/install?accept=settings.read", null);

        Assert.True(upgrade.IsSuccessStatusCode, await upgrade.Content.ReadAsStringAsync());
        Assert.Contains("it stays disabled", await upgrade.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");
        Assert.Equal("2.0.0", view.GetProperty("version").GetString());
        Assert.Equal("disabled", view.GetProperty("lifecycle").GetString());
        Assert.False(view.GetProperty("enabled").GetBoolean());
        Assert.Null(host.Supervisor("up").Snapshot.Pid);
        Assert.Single(Directory.GetDirectories(host.PluginsDirectory, "up-*"));

        (await host.Admin.PostAsync("/admin/api/plugins/up/enable", null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("up", WorkerState.Ready);
        Assert.Equal("2.0.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());
    }

    [Fact]
    public async Task Upgrade_OfAPluginWaitingForSettings_StartsOnlyOnceAVersionHasWhatItRequires()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, RequiringGreeting("1.0.0", required: true));
        Assert.Equal("pending_config", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up")).GetProperty("lifecycle").GetString());

        var stillPending = await InstallAsync(host, RequiringGreeting("1.1.0", required: true));
        var pendingView = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");
        var started = await InstallAsync(host, RequiringGreeting("2.0.0", required: false));
        await host.WaitForStateAsync("up", WorkerState.Ready);

        Assert.Contains("upgraded from 1.0.0; not started: required settings missing: greeting", stillPending, StringComparison.Ordinal);
        Assert.Equal("1.1.0", pendingView.GetProperty("version").GetString());
        Assert.Equal("pending_config", pendingView.GetProperty("lifecycle").GetString());
        Assert.Equal(JsonValueKind.Null, pendingView.GetProperty("pid").ValueKind);
        Assert.Contains("\"upgraded from 1.1.0\"", started, StringComparison.Ordinal);
        Assert.Equal("2.0.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());
        Assert.Equal("active", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up")).GetProperty("lifecycle").GetString());
    }

    [Fact]
    public async Task Upgrade_OfAServingPlugin_ToAVersionRequiringAnUnsetSetting_IsRefusedAtUpload_AndTheWayItNamesWorks()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, RequiringGreeting("1.0.0", required: false));
        await host.WaitForStateAsync("up", WorkerState.Ready);
        var pid = host.Supervisor("up").Snapshot.Pid;
        var bundle = RequiringGreeting("2.0.0", required: true);

        var upload = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(bundle)));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, upload.StatusCode);
        Assert.Contains(
            "settings: 2.0.0 would not start with what 'up' has stored: required settings missing: greeting; 1.0.0 keeps serving. Disable 'up', install this bundle (it stays disabled), store the settings 2.0.0 needs (PUT /admin/api/plugins/up/settings), then enable it.",
            await upload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("1.0.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());
        Assert.Equal(pid, host.Supervisor("up").Snapshot.Pid);
        Assert.Single(Directory.GetDirectories(host.PluginsDirectory, "up-*"));

        (await host.Admin.PostAsync("/admin/api/plugins/up/disable", null)).EnsureSuccessStatusCode();
        await InstallAsync(host, bundle);
        var put = await host.Admin.PutAsync("/admin/api/plugins/up/settings", JsonContent.Create(new { greeting = "hi" }));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        (await host.Admin.PostAsync("/admin/api/plugins/up/enable", null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("up", WorkerState.Ready);
        Assert.Equal("2.0.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());
    }

    [Fact]
    public async Task StoredTenantSettings_ANewVersionsSchemaRefuses_BlockUpgradeAndStart_NamingTheTenantToFix()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, RequiringGreeting("1.0.0", required: false));
        await host.WaitForStateAsync("up", WorkerState.Ready);
        var put = await host.Admin.PutAsync("/admin/api/plugins/up/settings?tenant=acme", JsonContent.Create(new { greeting = "a greeting longer than five" }));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var bundle = RequiringGreeting("2.0.0", required: false, maxLength: 5);

        var upload = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(bundle)));
        (await host.Admin.PostAsync("/admin/api/plugins/up/disable", null)).EnsureSuccessStatusCode();
        await InstallAsync(host, bundle);
        var enable = await host.Admin.PostAsync("/admin/api/plugins/up/enable", null);
        var enableBody = await enable.Content.ReadAsStringAsync();
        var fix = await host.Admin.PutAsync("/admin/api/plugins/up/settings?tenant=acme", JsonContent.Create(new { greeting = "hi" }));
        Assert.True(fix.IsSuccessStatusCode, await fix.Content.ReadAsStringAsync());
        await host.WaitForStateAsync("up", WorkerState.Ready);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, upload.StatusCode);
        Assert.Contains("stored settings do not match the schema of 2.0.0 (tenant 'acme': /greeting StringTooLong", await upload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, enable.StatusCode);
        Assert.Contains("Set them with PUT /admin/api/plugins/up/settings?tenant=acme.", enableBody, StringComparison.Ordinal);
        Assert.Equal("2.0.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());
        Assert.Equal("active", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up")).GetProperty("lifecycle").GetString());
    }

    private string RequiringGreeting(string version, bool required, int? maxLength = null) => _bundles.Pack("up", version, ["normal"], [], manifest =>
        manifest["settingsSchema"] = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["greeting"] = maxLength is { } max ? new JsonObject { ["type"] = "string", ["maxLength"] = max } : new JsonObject { ["type"] = "string" },
            },
            ["required"] = required ? new JsonArray("greeting") : new JsonArray(),
        });

    /// <summary>Uploads and installs <paramref name="bundle"/>, which must succeed; returns the answer.</summary>
    private static async Task<string> InstallAsync(TestHost host, string bundle)
    {
        var preview = await UploadAsync(host, bundle);
        var install = await host.Admin.PostAsync($"/admin/api/bundles/{preview.GetProperty("address").GetString()}/install?accept=settings.read", null);
        var body = await install.Content.ReadAsStringAsync();
        Assert.True(install.IsSuccessStatusCode, body);
        return body;
    }

    [Fact]
    public async Task Upgrade_WhoseAdminStopsWaiting_RunsToItsEnd_AndLeavesNoWorkerBehind()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, Bundle("1.0.0"));
        var old = await host.WaitForStateAsync("up", WorkerState.Ready);
        var preview = await UploadAsync(host, _bundles.Pack("up", "2.0.0", ["slow-start", "1500"], []));

        using var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            host.Admin.PostAsync($"/admin/api/bundles/{preview.GetProperty("address").GetString()}/install?accept=settings.read", null, impatient.Token));

        // The install is recorded last, once the old version is stopped and its folder gone.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/installs")).GetArrayLength() < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var now = await host.WaitForStateAsync("up", WorkerState.Ready);
        Assert.Equal("2.0.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/up/whoami")).GetProperty("version").GetString());
        Assert.NotEqual(old.Pid, now.Pid);
        Assert.False(Liveness.IsAlive(old.Pid!.Value), "the old version's worker outlived its upgrade");
        Assert.Single(Directory.GetDirectories(host.PluginsDirectory, "up-*"));
    }

    [Fact]
    public async Task Uninstall_OfADependentStillWaitingForItsDependency_StartsNothingAndLogsNoError()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, _bundles.Pack("base", "1.0.0", ["slow-start", "2000"], []));
        await InstallAsync(host, _bundles.Pack("app", "1.0.0", ["normal"], [("base", "1.0.0")]));
        var app = host.Supervisor("app");

        var uninstall = await host.Admin.DeleteAsync("/admin/api/plugins/app");
        await host.WaitForStateAsync("base", WorkerState.Ready);
        // The dependency wait ends at base's Ready; give a start that should not happen the time to.
        await Task.Delay(500);

        Assert.Equal(HttpStatusCode.NoContent, uninstall.StatusCode);
        Assert.Null(host.Catalog.Find("app"));
        Assert.Null(app.Snapshot.Pid);
        Assert.Equal(0, app.Snapshot.Restarts);
    }

    [Fact]
    public async Task UploadOfAnUnsignedArchive_IsRefusedWithTheReason()
    {
        await using var host = await StrictHostAsync();
        var path = Path.Combine(_work, "garbage.bundle");
        await File.WriteAllBytesAsync(path, CreateUnsignedTarGz());

        var response = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(path)));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("unsigned", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadOfSomethingThatIsNotATarGz_Is422WithWhatIsWrong_AndLeavesNothingStaged()
    {
        await using var host = await StrictHostAsync();
        var valid = await File.ReadAllBytesAsync(Bundle("1.0.0"));

        var text = await host.Admin.PostAsync("/admin/api/bundles", new StringContent("this is not a bundle"));
        var truncated = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(valid[..(valid.Length / 2)]));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, text.StatusCode);
        Assert.Contains("not a bundle: it could not be read as a .tar.gz", await text.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, truncated.StatusCode);
        Assert.Contains("BundleTool pack", await truncated.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var staging = Path.Combine(host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GrpcPlugins.Host.Hosting.PluginHostOptions>>().Value.StateDirectory, "staging");
        Assert.Empty(Directory.GetFiles(staging));
        Assert.Empty(Directory.GetDirectories(host.PluginsDirectory, ".*"));
    }

    [Fact]
    public async Task AnInstalledBundle_LeavesTheStagingArea_AndOneNeverInstalled_LeavesOnceItsLifetimeHasPassed()
    {
        await using var host = await StrictHostAsync();
        var staging = Path.Combine(host.Root, "state", "staging");
        var uploaded = await UploadAsync(host, Bundle("1.0.0"));
        var address = uploaded.GetProperty("address").GetString();
        var expires = uploaded.GetProperty("expires").GetDateTimeOffset();
        var path = $"/admin/api/bundles/{address}/install?accept=settings.read";

        var previews = Directory.GetDirectories(staging);
        (await host.Admin.PostAsync(path, null)).EnsureSuccessStatusCode();
        var afterInstall = Directory.GetFiles(staging);
        using var again = await host.Admin.PostAsync(path, null);

        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(23.9), TimeSpan.FromHours(24));
        Assert.Empty(previews); // the preview's extraction, beside the upload, is gone once it answered
        Assert.Empty(afterInstall);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("installed already from this very bundle", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Reviewed and left: a day later, the next upload takes it away.
        var left = (await UploadAsync(host, Bundle("2.0.0"))).GetProperty("address").GetString();
        var leftFile = Assert.Single(Directory.GetFiles(staging));
        File.SetLastWriteTimeUtc(leftFile, DateTime.UtcNow.AddHours(-25));
        var next = (await UploadAsync(host, Bundle("3.0.0"))).GetProperty("address").GetString();
        using var late = await host.Admin.PostAsync($"/admin/api/bundles/{left}/install?accept=settings.read", null);

        Assert.False(File.Exists(leftFile));
        Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);
        Assert.Contains("PluginHost:StagedBundleLifetime", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(next![7..], Path.GetFileNameWithoutExtension(Assert.Single(Directory.GetFiles(staging)))[7..]);
    }

    [Fact]
    public async Task ABundleTheDiskHasNoRoomFor_Is507SayingWhichDisk_NotStagedOnUpload_AndStillStagedWhenItsInstallIsRefused()
    {
        await using var host = await StrictHostAsync();
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GrpcPlugins.Host.Hosting.PluginHostOptions>>().Value;
        var staging = Path.Combine(host.Root, "state", "staging");
        var reserve = options.MinFreeDiskMiB;
        var address = (await UploadAsync(host, Bundle("1.0.0"))).GetProperty("address").GetString();
        var install = $"/admin/api/bundles/{address}/install?accept=settings.read";

        // The disk filled since the upload: a reserve larger than any disk stands for it, every write is refused.
        options.MinFreeDiskMiB = int.MaxValue;
        using var refusedInstall = await host.Admin.PostAsync(install, null);
        using var refusedUpload = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(Bundle("2.0.0"))));
        var stagedMeanwhile = Directory.GetFiles(staging);
        var extractions = Directory.GetDirectories(host.PluginsDirectory);
        options.MinFreeDiskMiB = reserve;
        using var installed = await host.Admin.PostAsync(install, null);

        Assert.Equal(HttpStatusCode.InsufficientStorage, refusedInstall.StatusCode);
        var installDetail = (await refusedInstall.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();
        Assert.StartsWith($"not enough room: the disk of {Path.GetFullPath(host.PluginsDirectory)} has ", installDetail, StringComparison.Ordinal);
        Assert.EndsWith("The bundle stays staged: install it again once there is room.", installDetail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.InsufficientStorage, refusedUpload.StatusCode);
        var uploadDetail = (await refusedUpload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();
        Assert.StartsWith($"not enough room: the disk of {Path.GetFullPath(staging)} has ", uploadDetail, StringComparison.Ordinal);
        Assert.Contains("PluginHost:MinFreeDiskMiB", uploadDetail, StringComparison.Ordinal);
        Assert.EndsWith("Nothing was staged.", uploadDetail, StringComparison.Ordinal);
        Assert.Single(stagedMeanwhile);
        Assert.Empty(extractions);
        Assert.True(installed.IsSuccessStatusCode, await installed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUpgrade_IsRolledBack_ToTheBundleItReplaced_WithoutAnUpload_AndRolledForwardAgain()
    {
        await using var host = await StrictHostAsync();
        var kept = Path.Combine(host.Root, "state", "bundles", "up");
        await InstallAsync(host, Bundle("1.0.0"));
        using var nothingReplaced = await host.Admin.PostAsync("/admin/api/plugins/up/rollback", null);
        await InstallAsync(host, Bundle("2.0.0"));
        var upgraded = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");

        using var back = await host.Admin.PostAsync("/admin/api/plugins/up/rollback", null);
        var rolledBack = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");
        var answered = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));
        using var forward = await host.Admin.PostAsync("/admin/api/plugins/up/rollback", null);
        var rolledForward = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");
        await InstallAsync(host, Bundle("3.0.0"));
        var third = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");
        var keptAfterThird = Directory.GetFiles(kept).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var audit = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=plugin.rollback");
        (await host.Admin.DeleteAsync("/admin/api/plugins/up")).EnsureSuccessStatusCode();
        using var unknown = await host.Admin.PostAsync("/admin/api/plugins/up/rollback", null);

        Assert.Equal(HttpStatusCode.Conflict, nothingReplaced.StatusCode);
        Assert.Contains("No earlier bundle of 'up' is kept to roll back to", await nothingReplaced.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("1.0.0", upgraded.GetProperty("rollbackTo").GetString());
        Assert.True(back.IsSuccessStatusCode, await back.Content.ReadAsStringAsync());
        Assert.Equal("1.0.0", (await back.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetString());
        Assert.Equal("1.0.0", rolledBack.GetProperty("version").GetString());
        Assert.Equal("Ready", rolledBack.GetProperty("state").GetString());
        Assert.Equal("2.0.0", rolledBack.GetProperty("rollbackTo").GetString());
        Assert.Empty(Assert.IsType<Host.Hooks.HookOutcome.Continued>(answered).Skipped);
        Assert.True(forward.IsSuccessStatusCode, await forward.Content.ReadAsStringAsync());
        Assert.Equal("2.0.0", rolledForward.GetProperty("version").GetString());
        // A new upgrade keeps the bundle it replaced and its own; older ones go.
        Assert.Equal("2.0.0", third.GetProperty("rollbackTo").GetString());
        Assert.Equal(2, keptAfterThird.Count);
        Assert.Contains(keptAfterThird, f => f!.EndsWith("_3.0.0.bundle", StringComparison.Ordinal));
        Assert.Contains(keptAfterThird, f => f!.EndsWith("_2.0.0.bundle", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(host.Root, "state", "staging")));
        // Newest first; the refusal is in the trail too.
        Assert.Equal([200, 200, 409], audit.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("status").GetInt32()));
        Assert.False(Directory.Exists(kept), "an uninstalled plugin's bundles stayed kept");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task ARollbackToAVersionThatWouldRefuseTheStoredSettings_Is422WithTheWay_AndTheWayWorks()
    {
        await using var host = await StrictHostAsync();
        await InstallAsync(host, RequiringGreeting("1.0.0", required: false, maxLength: 5));
        await InstallAsync(host, RequiringGreeting("2.0.0", required: false, maxLength: 50));
        (await host.Admin.PutAsync("/admin/api/plugins/up/settings", JsonContent.Create(new { greeting = "a greeting too long for 1.0.0" }))).EnsureSuccessStatusCode();

        using var refused = await host.Admin.PostAsync("/admin/api/plugins/up/rollback", null);
        var detail = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();
        (await host.Admin.PostAsync("/admin/api/plugins/up/disable", null)).EnsureSuccessStatusCode();
        using var dormant = await host.Admin.PostAsync("/admin/api/plugins/up/rollback", null);
        (await host.Admin.PutAsync("/admin/api/plugins/up/settings", JsonContent.Create(new { greeting = "hi" }))).EnsureSuccessStatusCode();
        (await host.Admin.PostAsync("/admin/api/plugins/up/enable", null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("up", WorkerState.Ready);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("1.0.0 would not start with what 'up' has stored", detail, StringComparison.Ordinal);
        Assert.EndsWith("where the steps above say install, call POST /admin/api/plugins/up/rollback.", detail, StringComparison.Ordinal);
        Assert.True(dormant.IsSuccessStatusCode, await dormant.Content.ReadAsStringAsync());
        Assert.Equal("1.0.0", host.Catalog.Find("up")!.Manifest!.Version);
    }

    [Fact]
    public async Task AnUpgradeThatCrashLoopsSoonAfter_IsRolledBackByTheHost_SaidInItsEventsAndTheAuditTrail()
    {
        // MaxRestarts 0: the first crash after a start is a crash loop.
        await using var host = await StrictHostAsync(configure: o => o.RollbackOnCrashLoopWithin = TimeSpan.FromMinutes(5));
        host.ExpectErrors = true; // the crash loop and the rollback are errors
        await InstallAsync(host, Bundle("1.0.0"));
        var first = await host.WaitForStateAsync("up", WorkerState.Ready);

        // 2.0.0 starts, so the upgrade switches to it, then dies a moment later.
        await InstallAsync(host, _bundles.Pack("up", "2.0.0", ["die-after", "1500"], []));
        var view = await RolledBackByTheHostAsync(host);
        var installs = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/installs");
        var answered = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));

        Assert.Equal("1.0.0", view.GetProperty("version").GetString());
        Assert.Equal("Ready", view.GetProperty("state").GetString());
        Assert.NotEqual(first.Pid, host.Supervisor("up").Snapshot.Pid);
        Assert.Contains(view.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "rolled-back"
            && e.GetProperty("detail").GetString()!.StartsWith("2.0.0 crash-looped ", StringComparison.Ordinal));
        Assert.Equal("2.0.0", view.GetProperty("rollbackTo").GetString());
        Assert.Equal(["1.0.0", "2.0.0", "1.0.0"], installs.EnumerateArray().Select(i => i.GetProperty("version").GetString()));
        Assert.Empty(Assert.IsType<Host.Hooks.HookOutcome.Continued>(answered).Skipped);
        Assert.Contains(host.ErrorLogs, l => l.Contains("UpgradeCrashLooping", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUpgradeWhoseHooksHangSoonAfter_IsRolledBackByTheHost_WhenItsHookPausesAreWatched()
    {
        // 2.0.0 starts and answers its health, so the upgrade switches to it; its hook handlers hang.
        await using var host = await UpgradedHostAsync(["hang-in-hook"], o =>
        {
            o.RollbackOnHookPauseWithin = TimeSpan.FromMinutes(5);
            o.HookBreakerTimeouts = 2;
        });
        var hung = host.Supervisor("up").Snapshot;
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x")).AsTask()));
        var view = await RolledBackByTheHostAsync(host);
        // The version brought back is a new worker, which starts with a closed breaker: no pause left to sit out.
        var answered = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));

        Assert.Equal("1.0.0", view.GetProperty("version").GetString());
        Assert.NotEqual(hung.Pid, host.Supervisor("up").Snapshot.Pid);
        Assert.Contains(view.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "rolled-back"
            && e.GetProperty("detail").GetString()!.StartsWith("2.0.0 had its hook calls paused ", StringComparison.Ordinal)
            && e.GetProperty("detail").GetString()!.Contains("(2 hook calls in a row missed their deadline)", StringComparison.Ordinal));
        Assert.Empty(Assert.IsType<Host.Hooks.HookOutcome.Continued>(answered).Skipped);
        Assert.Contains(host.ErrorLogs, l => l.Contains("UpgradeHookCallsPaused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUpgradeWhoseRoutesKeepFailing_IsRolledBackByTheHost_WhenItsCallFailuresAreWatched_ButNotWhileAnswersComeBetween()
    {
        // 2.0.0 starts and answers its health; some of its routes fail, others answer.
        await using var host = await UpgradedHostAsync(["normal"], o => (o.RollbackOnCallFailuresWithin, o.CallFailuresToRollBack) = (TimeSpan.FromMinutes(5), 3));
        var serving = host.Supervisor("up").Snapshot;
        var watched = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");
        var statuses = new List<int>();
        foreach (var path in new[] { "throw", "throw", "whoami", "throw", "throw" })
        {
            statuses.Add((int)(await host.Admin.GetAsync($"/plugins/up/{path}")).StatusCode);
        }

        await Task.Delay(300);
        var afterBrokenRuns = host.Catalog.Find("up")!.Manifest!.Version;

        // A third failure in a row.
        statuses.Add((int)(await host.Admin.GetAsync("/plugins/up/throw")).StatusCode);
        var view = await RolledBackByTheHostAsync(host);

        Assert.Equal([502, 502, 200, 502, 502, 502], statuses);
        var watch = Assert.Single(watched.GetProperty("upgradeWatch").EnumerateArray());
        Assert.Equal("calls failing", watch.GetProperty("what").GetString());
        Assert.InRange(watch.GetProperty("until").GetDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        // The version brought back is not watched in turn.
        Assert.Empty(view.GetProperty("upgradeWatch").EnumerateArray());
        Assert.Equal("2.0.0", afterBrokenRuns);
        Assert.Equal("1.0.0", view.GetProperty("version").GetString());
        Assert.NotEqual(serving.Pid, host.Supervisor("up").Snapshot.Pid);
        Assert.Contains(view.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "rolled-back"
            && e.GetProperty("detail").GetString()!.StartsWith("2.0.0 had its calls fail ", StringComparison.Ordinal)
            && e.GetProperty("detail").GetString()!.Contains("(3 route calls in a row failed, the last as Errored: ", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await host.Admin.GetAsync("/plugins/up/whoami")).StatusCode);
        Assert.Contains(host.ErrorLogs, l => l.Contains("UpgradeCallsFailed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUpgradeWhoseHooksKeepFailing_IsRolledBackByTheHost_WhenItsCallFailuresAreWatched()
    {
        // 2.0.0 starts and answers its health; its hook handler throws at every call (skipped at a fail-open point).
        await using var host = await UpgradedHostAsync(["error-in-hook"], o => (o.RollbackOnCallFailuresWithin, o.CallFailuresToRollBack) = (TimeSpan.FromMinutes(5), 3));
        var failing = host.Supervisor("up").Snapshot;
        var skipped = new List<int>();
        for (var call = 0; call < 3; call++)
        {
            skipped.Add(Assert.IsType<Host.Hooks.HookOutcome.Continued>(await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"))).Skipped.Count);
        }

        var view = await RolledBackByTheHostAsync(host);
        var answered = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));

        Assert.Equal([1, 1, 1], skipped);
        Assert.Equal("1.0.0", view.GetProperty("version").GetString());
        Assert.NotEqual(failing.Pid, host.Supervisor("up").Snapshot.Pid);
        Assert.Contains(view.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "rolled-back"
            && e.GetProperty("detail").GetString()!.Contains("(3 hook calls in a row failed, the last as Errored: ", StringComparison.Ordinal));
        Assert.Empty(Assert.IsType<Host.Hooks.HookOutcome.Continued>(answered).Skipped);
    }

    [Fact]
    public async Task ASecondUpgradeWithinTheWindow_EndsTheFirstsWatch_SoItsFailuresRollBackOnceToTheVersionItReplaced()
    {
        await using var host = await UpgradedHostAsync(["normal"], o => (o.RollbackOnCallFailuresWithin, o.CallFailuresToRollBack) = (TimeSpan.FromMinutes(5), 2));

        // 3.0.0 replaces 2.0.0 while 2.0.0 is still watched; 3.0.0's hook throws at every call.
        await InstallAsync(host, _bundles.Pack("up", "3.0.0", ["error-in-hook"], []));
        await host.WaitForAsync("up", s => s.State == WorkerState.Ready && host.Catalog.Find("up")!.Manifest!.Version == "3.0.0", "3.0.0 serving");
        for (var call = 0; call < 2; call++)
        {
            await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));
        }

        var view = await RolledBackByTheHostAsync(host);
        // A second rollback, by 2.0.0's watch taking 3.0.0's failures for its own, would swap 3.0.0 back in.
        await Task.Delay(1000);

        Assert.Equal("2.0.0", view.GetProperty("version").GetString());
        Assert.Equal("2.0.0", host.Catalog.Find("up")!.Manifest!.Version);
        Assert.Single((await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=plugin.rollback")).GetProperty("entries").EnumerateArray());
    }

    [Fact]
    public async Task AnUpgradeWhoseHooksHang_IsNotRolledBack_WhenOnlyCrashLoopsAreWatched()
    {
        await using var host = await UpgradedHostAsync(["hang-in-hook"], o =>
        {
            o.RollbackOnCrashLoopWithin = TimeSpan.FromMinutes(5);
            o.HookBreakerTimeouts = 2;
        });

        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x")).AsTask()));
        await SupervisorTests.WaitUntilAsync(() => host.Services.GetRequiredService<Host.Hooks.Breaker.HookBreakers>().View("up").State == Host.Hooks.Breaker.HookBreakerState.Open, TimeSpan.FromSeconds(10));
        await Task.Delay(500);

        // The breaker pauses it, as before this option existed; an admin decides.
        Assert.Equal("2.0.0", host.Catalog.Find("up")!.Manifest!.Version);
        Assert.DoesNotContain(host.Services.GetRequiredService<Host.Registry.LifecycleEvents>().Recent("up"), e => e.Name == "rolled-back");
    }

    [Fact]
    public async Task AReload_StartsThePluginAgainFromItsFolderAsItIsNow_AndAFolderThatWouldBeRefusedLeavesItServing()
    {
        var manifest = PluginFolders.Test("p");
        await using var host = await TestHost.StartAsync(manifest);
        var first = await host.WaitForStateAsync("p", WorkerState.Ready);
        var folder = Path.Combine(host.PluginsDirectory, "p");

        // An author publishes a new build over the folder of a running host: 1.1.0.
        Rewrite(manifest, "1.1.0");
        var reloaded = await host.Admin.PostAsync("/admin/api/plugins/p/reload", null);
        var whoami = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/p/whoami");
        var oldGone = !Liveness.IsAlive(first.Pid!.Value);

        // A manifest broken in place: 1.1.0 keeps serving.
        await File.WriteAllTextAsync(Path.Combine(folder, "plugin.json"), """{ "id": "p", "version": "1.2.0" }""");
        var brokenPreview = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/p/reload");
        var broken = await host.Admin.PostAsync("/admin/api/plugins/p/reload", null);
        var still = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/p/whoami");

        // A permission the loaded manifest did not ask for needs the admin's consent, as an install does.
        manifest["permissions"] = new JsonArray("settings.read", "settings.write");
        Rewrite(manifest, "1.2.0");
        var preview = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/p/reload");
        var unconsented = await host.Admin.PostAsync("/admin/api/plugins/p/reload", null);
        var consented = await host.Admin.PostAsync("/admin/api/plugins/p/reload?accept=settings.write", null);
        var unknown = await host.Admin.PostAsync("/admin/api/plugins/nope/reload", null);
        var unknownPreview = await host.Admin.GetAsync("/admin/api/plugins/nope/reload");
        var audit = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=plugin.reload");

        Assert.True(reloaded.IsSuccessStatusCode, await reloaded.Content.ReadAsStringAsync());
        Assert.Contains("reloaded from its folder, 1.0.0 before", await reloaded.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("1.1.0", whoami.GetProperty("version").GetString());
        Assert.NotEqual(first.Pid, whoami.GetProperty("pid").GetInt32());
        Assert.True(oldGone, "the version reloaded over still ran");
        Assert.True(File.Exists(Path.Combine(folder, "plugin.json")), "the reload removed the folder it runs from");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, broken.StatusCode);
        var refusal = await broken.Content.ReadAsStringAsync();
        Assert.Contains("'p' 1.1.0 keeps serving; its folder as it is now would be refused:", refusal, StringComparison.Ordinal);
        Assert.Contains("command", refusal, StringComparison.Ordinal);
        Assert.Equal("1.1.0", still.GetProperty("version").GetString());
        Assert.Null(brokenPreview.GetProperty("folder").GetString());
        Assert.Equal("1.1.0", brokenPreview.GetProperty("serving").GetString());
        Assert.Contains(brokenPreview.GetProperty("problems").EnumerateArray(), e => e.GetString()!.Contains("command", StringComparison.Ordinal));
        Assert.Equal(("1.1.0", "1.2.0"), (preview.GetProperty("serving").GetString(), preview.GetProperty("folder").GetString()));
        Assert.Equal(["settings.write"], preview.GetProperty("permissions").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(preview.GetProperty("problems").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, unknownPreview.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, unconsented.StatusCode);
        Assert.Contains("reload with ?accept=settings.write", await unconsented.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(consented.IsSuccessStatusCode, await consented.Content.ReadAsStringAsync());
        Assert.Equal("1.2.0", host.Catalog.Find("p")!.Manifest!.Version);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        // Newest first in the trail: each reload of 'p', refused ones included.
        Assert.Equal([200, 422, 409, 200], audit.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("pluginId").GetString() == "p").Select(e => e.GetProperty("status").GetInt32()).Reverse());

        void Rewrite(JsonObject plugin, string version)
        {
            plugin["version"] = version;
            plugin["args"] = new JsonArray(TestPaths.TestPlugin, "normal", "--version", version);
            File.WriteAllText(Path.Combine(folder, "plugin.json"), plugin.ToJsonString());
        }
    }

    [Fact]
    public async Task WithReloadOnChange_ABuildPublishedOverTheFolder_IsReloadedOnceTheFolderIsQuiet_AndAFolderThatWouldBeRefusedIsNot()
    {
        var manifest = PluginFolders.Test("p");
        await using var host = await TestHost.StartAsync([manifest], o => o.ReloadOnChange = true);
        var first = await host.WaitForStateAsync("p", WorkerState.Ready);
        var folder = Path.Combine(host.PluginsDirectory, "p");

        // What an interpreter caches beside its sources is not a change of the build.
        Directory.CreateDirectory(Path.Combine(folder, "__pycache__"));
        await File.WriteAllTextAsync(Path.Combine(folder, "__pycache__", "plugin.cpython-311.pyc"), "cached");
        await Task.Delay(Host.Registry.FolderReloads.Quiet * 3);
        var untouched = host.Supervisor("p").Snapshot.Pid;

        // A publish: several files, one after another.
        manifest["version"] = "1.1.0";
        manifest["args"] = new JsonArray(TestPaths.TestPlugin, "normal", "--version", "1.1.0");
        await File.WriteAllTextAsync(Path.Combine(folder, "plugin.json"), manifest.ToJsonString());
        await File.WriteAllTextAsync(Path.Combine(folder, "notes.txt"), "a second file of the same publish");
        JsonElement[] entries = [];
        bool Audited(int count)
        {
            entries = [.. host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=plugin.reload").GetAwaiter().GetResult().GetProperty("entries").EnumerateArray()];
            return entries.Length == count;
        }

        // The reload is audited once it is over, the old worker drained.
        await SupervisorTests.WaitUntilAsync(() => Audited(1), TimeSpan.FromSeconds(30));
        var reloaded = await host.WaitForStateAsync("p", WorkerState.Ready);

        // A manifest broken in place is not reloaded: 1.1.0 keeps serving.
        await File.WriteAllTextAsync(Path.Combine(folder, "plugin.json"), """{ "id": "p", "version": "1.2.0" }""");
        await SupervisorTests.WaitUntilAsync(() => Audited(2), TimeSpan.FromSeconds(30));

        Assert.Equal(first.Pid, untouched);
        Assert.NotEqual(first.Pid, reloaded.Pid);
        Assert.Equal("1.1.0", host.Catalog.Find("p")!.Manifest!.Version);
        Assert.Equal(WorkerState.Ready, host.Supervisor("p").Snapshot.State);
        Assert.Equal([("host", 200), ("host", 422)], entries.Reverse().Select(e => (e.GetProperty("actor").GetString(), e.GetProperty("status").GetInt32())));
        Assert.Contains("its folder changed (plugin.json); 'p' 1.1.0 keeps serving", entries[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithReloadOnChange_APluginWritingIntoItsFolderAsItStarts_IsNotReloadedForEver_AndAnEditStillReloadsIt()
    {
        var manifest = PluginFolders.Test("w", "write-beside");
        await using var host = await TestHost.StartAsync([manifest], o => o.ReloadOnChange = true);
        await host.WaitForStateAsync("w", WorkerState.Ready);
        var folder = Path.Combine(host.PluginsDirectory, "w");

        // An author's edit reloads it; each start then writes started.log beside it, which
        // would reload it again, for ever, were it taken for an edit.
        await File.WriteAllTextAsync(Path.Combine(folder, "notes.txt"), "an edit");
        JsonElement view = default;
        await SupervisorTests.WaitUntilAsync(
            () => (view = host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/w").GetAwaiter().GetResult()).GetProperty("reloadOnChangeIgnores").GetArrayLength() > 0,
            TimeSpan.FromSeconds(30));
        // Then it stays: no reload and no new worker for a while (a reload in flight may end first).
        var reloads = await ReloadsAsync();
        var pid = host.Supervisor("w").Snapshot.Pid;
        for (var round = 0; ; round++)
        {
            await Task.Delay(Host.Registry.FolderReloads.Quiet * 4);
            var (nowReloads, nowPid) = (await ReloadsAsync(), host.Supervisor("w").Snapshot.Pid);
            if (nowReloads.Length == reloads.Length && nowPid == pid)
            {
                break;
            }

            Assert.True(round < 5, $"still reloaded after its file was ignored: {nowReloads.Length} reloads, pid {nowPid}");
            (reloads, pid) = (nowReloads, nowPid);
        }

        // An edit after that still reloads it.
        manifest["version"] = "1.1.0";
        manifest["args"] = new JsonArray(TestPaths.TestPlugin, "write-beside", "--version", "1.1.0");
        await File.WriteAllTextAsync(Path.Combine(folder, "plugin.json"), manifest.ToJsonString());
        await SupervisorTests.WaitUntilAsync(() => ReloadsAsync().GetAwaiter().GetResult().Length == reloads.Length + 1, TimeSpan.FromSeconds(30));
        var edited = await ReloadsAsync();

        Assert.Equal(["started.log"], view.GetProperty("reloadOnChangeIgnores").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(WorkerState.Ready, host.Supervisor("w").Snapshot.State);
        // The edit, then at most the one start whose file was not yet known to be the plugin's.
        Assert.InRange(reloads.Length, 1, 1 + Host.Registry.FolderChangeSet.EchoesToIgnore - 1);
        Assert.All(reloads, r => Assert.Equal(200, r.GetProperty("status").GetInt32()));
        Assert.Contains("its folder changed (plugin.json)", edited[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("1.1.0", host.Catalog.Find("w")!.Manifest!.Version);
        Assert.Contains(host.Services.GetRequiredService<Host.Registry.LifecycleEvents>().Recent("w"), e => e.Name == "folder-files-ignored" && e.Detail.Contains("started.log", StringComparison.Ordinal));

        async Task<JsonElement[]> ReloadsAsync() =>
            [.. (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=plugin.reload")).GetProperty("entries").EnumerateArray()];
    }

    [Fact]
    public async Task Install_OfAnythingButAStagedBundlesAddress_Is404_NamingTheForm()
    {
        await using var host = await StrictHostAsync();
        var outside = Path.Combine(_work, "outside.bundle");
        File.Copy(Bundle("1.0.0"), outside);

        var traversal = await host.Admin.PostAsync($"/admin/api/bundles/{Uri.EscapeDataString("sha256:../../../" + outside)}/install?accept=settings.read", null);
        var unknown = await host.Admin.PostAsync($"/admin/api/bundles/sha256:{new string('a', 64)}/install?accept=settings.read", null);

        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
        Assert.Contains("is not a bundle address (sha256: and 64 lowercase hex digits)", await traversal.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no staged bundle", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(host.Catalog.Find("up"));
    }

    [Fact]
    public async Task Install_IntoAPluginsDirectoryOnAnotherFileSystem_Works_AndUnfinishedInstallsAreCleanedUp()
    {
        // /dev/shm is a tmpfs, the temporary directory is not: a plugins volume in a container is like that.
        var plugins = Directory.CreateDirectory(Path.Combine("/dev/shm", "gpt-plugins-" + Guid.NewGuid().ToString("N")[..12])).FullName;
        try
        {
            var unfinished = Directory.CreateDirectory(Path.Combine(plugins, ".extracting-from-a-killed-host")).FullName;
            await File.WriteAllTextAsync(Path.Combine(unfinished, "plugin.json"), """{"id":"half","version":"1.0.0","command":"/bin/true"}""");
            var trust = _bundles.TrustDirectory();
            await using var host = await TestHost.StartAsync([], o =>
            {
                o.AllowUnsignedPlugins = false;
                o.TrustedKeysDirectory = trust;
                o.PluginsDirectory = plugins;
            });
            Assert.False(Directory.Exists(unfinished), "an unfinished install survived the start");
            Assert.Null(host.Catalog.Find("half"));

            var preview = await UploadAsync(host, Bundle("1.0.0"));
            var install = await host.Admin.PostAsync($"/admin/api/bundles/{preview.GetProperty("address").GetString()}/install?accept=settings.read", null);

            Assert.True(install.IsSuccessStatusCode, await install.Content.ReadAsStringAsync());
            await host.WaitForStateAsync("up", WorkerState.Ready);
            Assert.StartsWith(plugins, host.Catalog.Find("up")!.Folder, StringComparison.Ordinal);
            Assert.Empty(Directory.GetDirectories(plugins, ".extracting-*"));
        }
        finally
        {
            Directory.Delete(plugins, recursive: true);
        }
    }

    [Fact]
    public async Task BundleOverTheLimit_Is413_DeclaredOrStreamed_AndLeavesNothingStaged()
    {
        var trust = _bundles.TrustDirectory();
        await using var host = await TestHost.StartAsync([], o =>
        {
            o.AllowUnsignedPlugins = false;
            o.TrustedKeysDirectory = trust;
            o.MaxBundleBytes = 100_000;
        });
        // Just over the limit: the whole upload fits in the socket's buffers, so the client
        // has sent it all when the host answers (a larger one may see its connection cut).
        var upload = new byte[150_000];
        Random.Shared.NextBytes(upload);
        using var declaredRequest = new HttpRequestMessage(HttpMethod.Post, "/admin/api/bundles") { Content = new ByteArrayContent(upload) };
        declaredRequest.Headers.ExpectContinue = true;

        var declared = await host.Admin.SendAsync(declaredRequest);
        var streamed = await host.Admin.PostAsync("/admin/api/bundles", new StreamContent(new UnseekableStream(upload)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Contains("MaxBundleBytes", await declared.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Contains("MaxBundleBytes", await streamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var staging = Path.Combine(host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GrpcPlugins.Host.Hosting.PluginHostOptions>>().Value.StateDirectory, "staging");
        Assert.True(!Directory.Exists(staging) || Directory.GetFiles(staging).Length == 0, "a refused upload left files in " + staging);
    }

    /// <summary>A body without a declared length, so the limit must hold while it streams.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    public void Dispose()
    {
        _bundles.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    /// <summary>A host that loads only signed bundles; with <paramref name="kept"/>, its plugins and state live there and outlive it.</summary>
    /// <summary>Waits for the host's own rollback of 'up', checks the audit trail names the host as its actor, and answers the plugin's view.</summary>
    private static async Task<JsonElement> RolledBackByTheHostAsync(TestHost host)
    {
        // Its event comes last, after the audit entry.
        await SupervisorTests.WaitUntilAsync(() => host.Services.GetRequiredService<Host.Registry.LifecycleEvents>().Recent("up").Any(e => e.Name == "rolled-back"), TimeSpan.FromSeconds(30));
        var audit = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=plugin.rollback");
        var entry = Assert.Single(audit.GetProperty("entries").EnumerateArray());
        Assert.Equal(("host", 200), (entry.GetProperty("actor").GetString(), entry.GetProperty("status").GetInt32()));
        return await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up");
    }

    /// <summary>
    /// A host watching upgrades as <paramref name="configure"/> says, with 'up' 1.0.0 installed and
    /// Ready, then upgraded through the admin API to a 2.0.0 running <paramref name="modeArgs"/>, serving.
    /// Errors are expected: a misbehaving upgrade and a rollback are logged as errors.
    /// </summary>
    private async Task<TestHost> UpgradedHostAsync(string[] modeArgs, Action<GrpcPlugins.Host.Hosting.PluginHostOptions> configure)
    {
        var host = await StrictHostAsync(configure: configure);
        try
        {
            host.ExpectErrors = true;
            await InstallAsync(host, Bundle("1.0.0"));
            await host.WaitForStateAsync("up", WorkerState.Ready);
            await InstallAsync(host, _bundles.Pack("up", "2.0.0", modeArgs, []));
            await host.WaitForAsync("up", s => s.State == WorkerState.Ready && host.Catalog.Find("up")!.Manifest!.Version == "2.0.0", "2.0.0 serving");
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private async Task<TestHost> StrictHostAsync(string? kept = null, Action<GrpcPlugins.Host.Hosting.PluginHostOptions>? configure = null)
    {
        var trust = _bundles.TrustDirectory();
        return await TestHost.StartAsync([], o =>
        {
            configure?.Invoke(o);
            o.AllowUnsignedPlugins = false;
            o.TrustedKeysDirectory = trust;
            o.MaxRestarts = 0;
            o.StartTimeout = TimeSpan.FromSeconds(15);
            if (kept is not null)
            {
                o.PluginsDirectory = Path.Combine(kept, "plugins");
                o.StateDirectory = Path.Combine(kept, "state");
            }
        });
    }

    private static async Task<JsonElement> UploadAsync(TestHost host, string bundle)
    {
        var response = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(bundle)));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body;
    }

    private string Bundle(string version, string mode = "normal") => _bundles.Pack("up", version, mode);


    private byte[] CreateUnsignedTarGz()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_work, "unsigned")).FullName;
        File.WriteAllText(Path.Combine(folder, "plugin.json"), """{"id":"x","version":"1.0.0","command":"/bin/true"}""");
        using var memory = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(memory, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            System.Formats.Tar.TarFile.CreateFromDirectory(folder, gzip, includeBaseDirectory: false);
        }

        return memory.ToArray();
    }
}
