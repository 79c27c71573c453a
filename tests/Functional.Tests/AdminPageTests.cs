using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// The admin page in a real browser: Debian's chromium driven by Playwright.
/// Set SCREENSHOT_PATH to keep a picture for humans (make screenshot).
/// </summary>
public sealed class AdminPageTests(SharedBrowser shared) : IClassFixture<SharedBrowser>, IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";

    public Task InitializeAsync() => Task.CompletedTask;

    // Each test's pages close with it, whatever it asserted: the next test's browser starts empty.
    public Task DisposeAsync() => shared.CloseContextsAsync();

    [Fact]
    public async Task Admin_SignsIn_ReloadsAPluginGrantingWhatItNowAsks_DisablesIt_SeesAFieldError_SavesASetting_AndTheApiAgrees()
    {
        // t starts a daemon in a session of its own, as native drivers do.
        var t = PluginFolders.Test("t", "spawn-escapee");
        t["limits"] = new JsonObject { ["cpus"] = 0.5 };
        await using var host = await TestHost.StartAsync(PluginFolders.Hello(), t);
        await Task.WhenAll(host.WaitForStateAsync("hello", WorkerState.Ready), host.WaitForStateAsync("t", WorkerState.Ready));
        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);
        await page.WaitForSelectorAsync("#plugin-t .state-Ready");
        // Waited for, not read once: the tests' 500 ms health probes can miss one while chromium
        // starts on two busy cores, and the page would rightly show that moment as Unhealthy.
        await page.WaitForSelectorAsync("#plugin-hello .state-Ready");
        Assert.Equal("Ready", await page.TextContentAsync("#plugin-hello .state"));
        Assert.Equal(" (RSS watchdog)", await page.TextContentAsync("#plugin-hello .enforcement"));
        // Its threads against the default limit, once the first reading after Ready is in (the page refreshes itself).
        await page.WaitForSelectorAsync("#plugin-hello .threads:text-matches('^[1-9][0-9]* / 1024 threads$')");
        // The daemon is counted in t's figures, and said to be; hello starts none.
        await page.WaitForSelectorAsync("#plugin-t .helpers:text-is('incl. 1 helper outside its group')");
        Assert.Equal(0, await page.Locator("#plugin-hello .helpers").CountAsync());
        // A CPU limit this host has no cpu cgroup to hold is shown as such; none is shown for none.
        Assert.Equal("≤ 0.5 cores, not enforced", await page.TextContentAsync("#plugin-t .cpu"));
        Assert.Equal(0, await page.Locator("#plugin-hello .cpu").CountAsync());
        // The CPU time every worker used, limit or not (a start takes some).
        await page.WaitForSelectorAsync("#plugin-hello .cpu-time:text-matches('^CPU (?!0\\.00)[0-9]+\\.[0-9]{2} s$')");
        await page.WaitForSelectorAsync("#store:has-text(\"State: a SQLite file of this host's.\")");
        Assert.False(await page.IsVisibleAsync("#audit-replica"));

        // A build published over t's folder asks for one more permission: the page asks the admin
        // before it reloads; not granted, nothing is asked of the host, and 1.0.0 keeps serving.
        var republished = PluginFolders.Test("t", "normal", "--version", "1.1.0");
        republished["version"] = "1.1.0";
        republished["permissions"] = new System.Text.Json.Nodes.JsonArray("settings.read", "settings.write");
        PluginFolders.Write(host.PluginsDirectory, republished);
        string? asked = null;
        void Refuse(object? sender, IDialog dialog)
        {
            asked = dialog.Message;
            _ = dialog.DismissAsync();
        }

        page.Dialog += Refuse;
        await page.ClickAsync("#plugin-t .action-reload");
        await page.WaitForSelectorAsync("#status:has-text('Reload of t not done: settings.write not granted.')");
        page.Dialog -= Refuse;
        Assert.Equal("t's folder holds 1.1.0 (serving 1.0.0), which asks for settings.write: 1.0.0 did not. Grant it and reload?", asked);
        Assert.Equal("1.0.0", host.Catalog.Find("t")!.Manifest!.Version);

        // Granted, it reloads, and the row shows the new version.
        void Grant(object? sender, IDialog dialog) => _ = dialog.AcceptAsync();
        page.Dialog += Grant;
        await page.ClickAsync("#plugin-t .action-reload");
        await page.WaitForSelectorAsync("#status:has-text('Reload of t: ')", new PageWaitForSelectorOptions { Timeout = 30_000 });
        page.Dialog -= Grant;
        await page.WaitForSelectorAsync("#plugin-t td:has-text('1.1.0')");
        Assert.Equal(["settings.read", "settings.write"], host.Catalog.Find("t")!.Manifest!.Permissions.Order(StringComparer.Ordinal));
        // One reload asked of the host, the granted one: the preview and the declined one change nothing, so they are not actions.
        var reloads = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=plugin.reload")).GetProperty("entries");
        Assert.Equal([200], reloads.EnumerateArray().Select(e => e.GetProperty("status").GetInt32()));
        await page.WaitForSelectorAsync("#plugin-t .state-Ready");

        // Disable a plugin.
        await page.ClickAsync("#plugin-t .action-disable");
        await page.WaitForSelectorAsync("#plugin-t .state-Stopped");
        var disabled = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        Assert.Equal("Stopped", disabled.GetProperty("state").GetString());

        // Restarting it is refused while it is disabled, and the page says why.
        await page.ClickAsync("#plugin-t .action-restart");
        await page.WaitForSelectorAsync("#status:has-text(\"Restart of t refused. 't' is disabled\")");
        Assert.Equal(WorkerState.Stopped, host.Supervisor("t").Snapshot.State);

        // What happened to it, newest first: the disable, then the reload.
        await page.ClickAsync("#plugin-t .action-settings");
        await page.WaitForSelectorAsync("#events tbody tr:first-child.event-deactivated");
        Assert.Contains("reloaded from its folder, 1.0.0 before", await page.TextContentAsync("#events tr.event-activated"), StringComparison.Ordinal);

        // An invalid value shows its error beside the field, and nothing is saved.
        await page.FillAsync("#setting-limit", "0");
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#error-limit:not(:empty)");
        Assert.Equal(0, (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings")).GetProperty("revision").GetInt64());

        // A valid value is saved, and the API agrees.
        await page.FillAsync("#setting-limit", "5");
        await page.FillAsync("#setting-greeting", "from the browser");
        await page.FillAsync("#setting-apiKey", "browser-secret");
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#settings-saved:has-text('Saved')");
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        Assert.Equal(5, stored.GetProperty("settings").GetProperty("limit").GetInt32());
        Assert.Equal("from the browser", stored.GetProperty("settings").GetProperty("greeting").GetString());
        Assert.Equal("********", stored.GetProperty("settings").GetProperty("apiKey").GetString());

        if (Environment.GetEnvironmentVariable("SCREENSHOT_PATH") is { Length: > 0 } path)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        }

        // A second save builds on the page's first, but not over another admin's save in between.
        await page.FillAsync("#setting-greeting", "second save");
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#settings-saved:has-text('revision 2')");
        (await host.Admin.PutAsJsonAsync("/admin/api/plugins/t/settings", new { greeting = "from another admin", limit = 5 })).EnsureSuccessStatusCode();
        await page.FillAsync("#setting-greeting", "stale");
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#settings-error:has-text('Someone saved these settings after you opened them')");
        Assert.Equal("from another admin", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings")).GetProperty("settings").GetProperty("greeting").GetString());
    }

    [Fact]
    public async Task Admin_InstallsASignedBundle_GrantingItsPermissions_SeesItsUpgradeWatched_RollsItBack_ThenUninstallsIt()
    {
        var work = Directory.CreateTempSubdirectory("gpt-page-").FullName;
        try
        {
            using var bundles = new SignedBundles(work);
            var trust = bundles.TrustDirectory();
            var bundle = bundles.Pack("shop", "1.2.0");
            await using var host = await TestHost.StartAsync([], o =>
            {
                o.AllowUnsignedPlugins = false;
                o.TrustedKeysDirectory = trust;
                o.RollbackOnCallFailuresWithin = TimeSpan.FromMinutes(30);
            });
            var browser = shared.Browser;
            var page = await SignInAsync(browser, host);
            await page.WaitForSelectorAsync("#status:has-text('0 plugins')");

            // Upload: the page shows what the bundle is and what it asks for.
            await page.SetInputFilesAsync("#bundle-file", bundle);
            await page.ClickAsync("#upload-bundle");
            await page.WaitForSelectorAsync("#bundle-preview:not([hidden])");
            Assert.Contains("shop 1.2.0: install", await page.TextContentAsync("#bundle-summary"), StringComparison.Ordinal);
            Assert.Contains("Staged until", await page.TextContentAsync("#bundle-summary"), StringComparison.Ordinal);
            Assert.DoesNotContain("Invalid Date", await page.TextContentAsync("#bundle-summary"), StringComparison.Ordinal);

            // Without consent the host refuses, and the page says why.
            await page.ClickAsync("#install-bundle");
            await page.WaitForSelectorAsync("#bundle-error:has-text('settings.read')");

            // With the permission ticked it installs, for the tenants chosen, and the plugin starts.
            await page.CheckAsync("#bundle-permissions .permission[value='settings.read']");
            await page.SelectOptionAsync("#install-scope-mode", "only");
            await page.FillAsync("#install-scope-tenants", "acme");
            await page.ClickAsync("#install-bundle");
            await page.WaitForSelectorAsync("#plugin-shop .state-Ready", new PageWaitForSelectorOptions { Timeout = 30_000 });
            var installs = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/shop/installs");
            Assert.Equal("1.2.0", installs[0].GetProperty("version").GetString());
            Assert.Equal("only acme", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/shop/tenant-scope")).GetProperty("takes").GetString());

            // An upgrade that goes wrong is rolled back from its row, confirming the dialog, with no upload.
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            var upgrade = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(bundles.Pack("shop", "1.3.0"))));
            var upgradeAddress = (await upgrade.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("address").GetString();
            (await host.Admin.PostAsync($"/admin/api/bundles/{upgradeAddress}/install?accept=settings.read", null)).EnsureSuccessStatusCode();
            // The host watches the version an upgrade switched to, and the row says for what.
            await page.WaitForSelectorAsync("#plugin-shop .upgrade-watch:has-text('(watched: calls failing until')");
            await page.ClickAsync("#plugin-shop .action-rollback:has-text('Roll back to 1.2.0')");
            await page.WaitForSelectorAsync("#plugin-shop .action-rollback:has-text('Roll back to 1.3.0')", new PageWaitForSelectorOptions { Timeout = 30_000 });
            Assert.Equal("1.2.0", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/shop")).GetProperty("version").GetString());

            // Uninstall from its row, confirming the dialog: refused while another plugin depends on it, and the page says why.
            var dependent = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(bundles.Pack("cart", "1.0.0", ["normal"], [("shop", "1.2.0")]))));
            var address = (await dependent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("address").GetString();
            (await host.Admin.PostAsync($"/admin/api/bundles/{address}/install?accept=settings.read", null)).EnsureSuccessStatusCode();
            await page.ClickAsync("#plugin-shop .action-uninstall");
            await page.WaitForSelectorAsync("#status:has-text(\"Uninstall of shop refused. 'shop' is a dependency of 'cart'\")");
            Assert.NotNull(host.Catalog.Find("shop"));
            (await host.Admin.DeleteAsync("/admin/api/plugins/cart")).EnsureSuccessStatusCode();
            await page.ClickAsync("#plugin-shop .action-uninstall");
            await page.WaitForSelectorAsync("#plugin-shop", new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached });
            var list = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins");
            Assert.DoesNotContain(list.EnumerateArray(), p => p.GetProperty("id").GetString() == "shop");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task Admin_SeesEachHookPointsPluginsInCallOrder_AStoppedOneStruckThrough_AndAMisspeltPointFlagged()
    {
        var misspelt = PluginFolders.Test("typo", "normal", "--also-hook", "respons");
        misspelt["hooks"] = new System.Text.Json.Nodes.JsonArray("request", "respons");
        var tagger = PluginFolders.Test("tagger");
        tagger["hooks"] = System.Text.Json.Nodes.JsonNode.Parse("""[{"point": "request", "match": {"contentTypes": ["application/json"]}}]""");
        await using var host = await TestHost.StartAsync([PluginFolders.Hello(), tagger, misspelt], o => o.HookOrder["request"] = ["tagger"]);
        foreach (var id in new[] { "hello", "tagger", "typo" })
        {
            await host.WaitForStateAsync(id, WorkerState.Ready);
        }

        (await host.Admin.PostAsync("/admin/api/plugins/hello/disable", null)).EnsureSuccessStatusCode();
        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);

        await page.WaitForSelectorAsync("#hook-request .hook-plugins:has-text('tagger (content types application/json) → hello → typo')");
        Assert.Equal("hello", await page.TextContentAsync("#hook-request .not-called"));
        Assert.Equal(" (content types application/json)", await page.TextContentAsync("#hook-request .hook-match"));
        Assert.Equal("FailOpen, 2000 ms", await page.TextContentAsync("#hook-request td:nth-child(2)"));
        Assert.Contains("Check the name in their plugin.json", await page.TextContentAsync("#hook-respons .hook-warning"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_SeesAPluginWhoseHookCallsArePaused_AsDegraded_WithUntilWhen()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("stuck", "hang-in-hook")], o =>
        {
            o.HookBreakerTimeouts = 1;
            o.HookBreakerPause = TimeSpan.FromMinutes(5);
        });
        await host.WaitForStateAsync("stuck", WorkerState.Ready);
        await host.Hooks.DispatchAsync(new Host.Hooks.HookPoint("request", Host.Hooks.HookFailureMode.FailOpen, TimeSpan.FromMilliseconds(200)), WalkingSkeletonTests.Input("x"));
        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);

        await page.WaitForSelectorAsync("#plugin-stuck .hook-breaker");
        var health = await page.TextContentAsync("#plugin-stuck .health");

        Assert.StartsWith("Degraded (hook calls paused until ", health, StringComparison.Ordinal);
        Assert.EndsWith(": 1 timeout in a row)", health, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_SeesAPluginHaltedOverItsDataLimit_EmptiesItsDataFromItsRow_AndRestartsIt()
    {
        var manifest = PluginFolders.Test("d");
        manifest["limits"] = new System.Text.Json.Nodes.JsonObject { ["dataMiB"] = 1 };
        await using var host = await TestHost.StartAsync([manifest], o => o.DataCheckInterval = TimeSpan.FromMilliseconds(100));
        host.ExpectErrors = true; // the halt is logged as an error
        await host.WaitForStateAsync("d", WorkerState.Ready);
        await DataLimitTests.WriteThroughThePluginAsync(host, "d", 3 * 1024 * 1024);
        await host.WaitForStateAsync("d", WorkerState.Halted);
        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);

        await page.WaitForSelectorAsync("#plugin-d .state-Halted");
        var data = await page.TextContentAsync("#plugin-d .data");
        var lastError = await page.TextContentAsync("#plugin-d .last-error");
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.ClickAsync("#plugin-d .action-empty-data");
        await page.WaitForSelectorAsync("#plugin-d .data:has-text('0.0 MiB / 1.0 MiB')");
        await page.ClickAsync("#plugin-d .action-restart");
        await page.WaitForSelectorAsync("#plugin-d .state-Ready", new PageWaitForSelectorOptions { Timeout = 30_000 });

        Assert.Matches(@"^ [1-3]\.\d MiB / 1\.0 MiB$", data);
        Assert.StartsWith("data limit exceeded: ", lastError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(host.Root, "state", "data", "d")));
        Assert.Equal(0, await page.Locator("#plugin-d .action-empty-data").CountAsync());
    }

    [Fact]
    public async Task Admin_SeesAPluginAtItsLimitOfCallsInFlight_AsDegraded_WithWhatWasRefused()
    {
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new System.Text.Json.Nodes.JsonObject { ["maxConcurrentCalls"] = 8 };
        await using var host = await TestHost.StartAsync([manifest], o => o.PluginLimits["t"] = new Host.Hosting.PluginLimitsOptions { MaxConcurrentCalls = 1 });
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var giveUp = new CancellationTokenSource();
        var slow = host.Admin.GetAsync("/plugins/t/slow", giveUp.Token);
        await SupervisorTests.WaitUntilAsync(() => host.Supervisor("t").InFlight == 1, TimeSpan.FromSeconds(20));
        using var refused = await host.Admin.GetAsync("/plugins/t/echo/a");
        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);

        await page.WaitForSelectorAsync("#plugin-t .call-limit");
        var health = await page.TextContentAsync("#plugin-t .health");
        await page.ClickAsync("#plugin-t .action-settings");
        await page.WaitForFunctionAsync("() => document.getElementById('detail-facts').textContent.length > 0");
        var facts = await page.TextContentAsync("#detail-facts");
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("Degraded (at its limit: 1 of 1 calls in flight, 1 refused)", health);
        Assert.Equal($"1 of 1 calls in flight, 1 refused at the limit. 0 of 1000 WebSockets open (0 opened, 0 refused at the limit). Its data directory: {Path.Combine(host.Root, "state", "data", "t")} Limits the host sets over its manifest's: maxConcurrentCalls=1.", facts);
    }

    [Fact]
    public async Task Admin_SeesAPluginsTenantsAgainstTheLimit_AndDeletesOnesSettings()
    {
        var manifest = PluginFolders.Test("t");
        manifest["permissions"] = new System.Text.Json.Nodes.JsonArray("settings.read", "settings.write");
        await using var host = await TestHost.StartAsync([manifest], o => o.MaxSettingsTenants = 5);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        foreach (var tenant in new[] { "acme", "globex", "refuses-removal" })
        {
            using var written = await host.Admin.PostAsync($"/plugins/t/settings?tenant={tenant}", SettingsAndAdminTests.Json($$"""{"greeting":"{{tenant}}"}"""));
            Assert.Equal("revision 1", await written.Content.ReadAsStringAsync());
        }

        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.ClickAsync("#plugin-t .action-settings");
        await page.WaitForSelectorAsync("#tenant-globex");
        Assert.StartsWith("3 of at most 5 tenants;", await page.TextContentAsync("#tenants-summary"), StringComparison.Ordinal);

        await page.ClickAsync("#tenant-acme .delete-tenant");
        await page.WaitForSelectorAsync("#tenant-acme", new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached });
        var quiet = await page.TextContentAsync("#status");

        // A plugin that will not forget: the deletion stands, and the admin reads why it may still act on them.
        await page.ClickAsync("#tenant-refuses-removal .delete-tenant");
        await page.WaitForSelectorAsync("#tenant-refuses-removal", new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached });
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.includes('refused to forget')");
        // The page refreshes every 3 s; what the admin must read outlives a refresh.
        await page.WaitForTimeoutAsync(3500);

        var listed = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings/tenants");
        Assert.Equal(["globex"], listed.GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("tenant").GetString()));
        Assert.StartsWith("1 of at most 5 tenants;", await page.TextContentAsync("#tenants-summary"), StringComparison.Ordinal);
        Assert.DoesNotContain("refused", quiet ?? string.Empty, StringComparison.Ordinal);
        Assert.Contains("Deleted tenant refuses-removal's settings, but the running plugin refused to forget them", await page.TextContentAsync("#status"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_ScopesAPluginsHooksToSomeTenants_SeesTheScopeOnItsHookPoint_AndABadTenantIsRefused()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);
        await page.ClickAsync("#plugin-t .action-settings");
        await page.WaitForFunctionAsync("() => document.getElementById('scope-saved').textContent === 'Now: every tenant.'");

        await page.SelectOptionAsync("#scope-mode", "only");
        await page.FillAsync("#scope-tenants", "globex, acme");
        await page.ClickAsync("#save-scope");
        await page.WaitForFunctionAsync("() => document.getElementById('scope-saved').textContent === 'Saved: only acme, globex.'");
        await page.WaitForSelectorAsync("#hook-request .hook-tenants");
        var shown = await page.TextContentAsync("#hook-request .hook-tenants");

        // A control character (pasted from somewhere) is not a tenant id: refused, the scope saved before stands.
        await page.FillAsync("#scope-tenants", "acme, bad\u0001id");
        await page.ClickAsync("#save-scope");
        await page.WaitForFunctionAsync("() => document.getElementById('scope-error').textContent.length > 0");

        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/tenant-scope");
        var error = await page.TextContentAsync("#scope-error");

        // Back to the host's default (every tenant here): the admin's scope is deleted, not replaced.
        await page.SelectOptionAsync("#scope-mode", "default");
        await page.ClickAsync("#save-scope");
        await page.WaitForFunctionAsync("() => document.getElementById('scope-saved').textContent === 'Saved: every tenant.'");
        var reset = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/tenant-scope");

        Assert.Equal(" [only acme, globex]", shown);
        Assert.Contains("$.only[1]: the tenant id holds a control character", error, StringComparison.Ordinal);
        Assert.Equal("only acme, globex", stored.GetProperty("takes").GetString());
        Assert.True(reset.GetProperty("isDefault").GetBoolean());
        Assert.Equal("default", await page.InputValueAsync("#scope-mode"));
    }

    [Fact]
    public async Task UnderTheApplicationsPathBase_TheAdminSignsIn_AndSeesThePlugins_AndAPluginIsToldItsPrefixWithIt()
    {
        // An application mounted under a prefix, as behind an ingress that routes /gateway to it.
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")], configure: null, mapApplication: app =>
        {
            app.UsePathBase("/gateway");
            app.UseRouting();
            app.UseAuthentication();
            app.UseAuthorization();
        });
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var page = await shared.Browser.NewPageAsync();
        page.SetDefaultTimeout(15_000);

        await page.GotoAsync(new Uri(host.Client.BaseAddress!, "/gateway/admin").ToString());
        await page.FillAsync("#key", TestHost.AdminKey);
        await page.ClickAsync("button[type=submit]");

        // Signed in and back on the page under the prefix, which reached the API there: it used to post the key to /admin/login and fetch /admin/api, outside the application.
        await page.WaitForSelectorAsync("#plugin-t .state-Ready");
        Assert.Equal(new Uri(host.Client.BaseAddress!, "/gateway/admin").ToString(), page.Url);
        var echoed = await host.Admin.GetFromJsonAsync<JsonElement>("/gateway/plugins/t/echo/a");
        Assert.Equal("/echo/a", echoed.GetProperty("path").GetString());
        Assert.Equal("/gateway/plugins/t", echoed.GetProperty("headers").GetProperty("x-forwarded-prefix").GetString());
    }

    [Fact]
    public async Task AdminPage_WithoutTheKey_ShowsOnlyTheSignInForm()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));

        var response = await host.Client.GetAsync("/admin");
        var wrong = await host.Client.PostAsync("/admin/login", new FormUrlEncodedContent([new("key", "guess")]));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Admin API key", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/admin/api/plugins", html, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not an admin key", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePage_RunsOnlyItsOwnScriptAndStyle_TalksOnlyToItsHost_AndNoOtherSiteMayFrameIt()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var signIn = await host.Client.GetAsync("/admin");
        var page = await SignInAsync(shared.Browser, host);
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                refused.Add(message.Text);
            }
        };

        await page.ClickAsync("#plugin-t .action-settings");
        await page.WaitForSelectorAsync("#setting-greeting");
        // What an injected script would be: refused, since it is not the page's own.
        var injectedRan = await page.EvaluateAsync<bool>("""
            () => new Promise(done => {
              const script = document.createElement("script");
              script.textContent = "window.injected = true";
              document.body.append(script);
              setTimeout(() => done(window.injected === true), 200);
            })
            """);

        var policy = signIn.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.Equal("DENY", signIn.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", signIn.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(injectedRan, "a script the page did not ship ran in it");
        Assert.Single(refused);
    }

    [Fact]
    public async Task APluginsPage_OpenedByASignedInAdmin_IsSandboxed_SoItsScriptCannotUseTheAdminApi_UnlessTheHostTrustsThatPlugin()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t"), PluginFolders.Test("trusted")], o => o.SameOriginPlugins = ["trusted"]);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        await host.WaitForStateAsync("trusted", WorkerState.Ready);
        var page = await SignInAsync(shared.Browser, host);
        await page.WaitForSelectorAsync("#plugin-t");

        await page.GotoAsync(new Uri(host.Client.BaseAddress!, "/plugins/t/page").ToString());
        await page.WaitForFunctionAsync("() => document.title !== 'loading'");
        var sandboxed = await page.TitleAsync();
        await page.GotoAsync(new Uri(host.Client.BaseAddress!, "/plugins/trusted/page").ToString());
        await page.WaitForFunctionAsync("() => document.title !== 'loading'");
        var trusted = await page.TitleAsync();

        Assert.StartsWith("refused", sandboxed, StringComparison.Ordinal);
        Assert.StartsWith("read 200", trusted, StringComparison.Ordinal);
    }

    internal static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: 'make test' installs Debian's chromium package");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    [Fact]
    public async Task AReadOnlyKeysHolder_SeesThePluginsAndTheirSettings_WithNoControlThatChangesThem()
    {
        const string ViewerKey = "the-viewers-own-long-key";
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")], o =>
        {
            o.AdminApiKeys["viewer"] = ViewerKey;
            o.ReadOnlyAdmins.Add("viewer");
        });
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var browser = shared.Browser;
        var page = await SignInAsync(browser, host, ViewerKey);

        await page.WaitForSelectorAsync("#signed-in:has-text('Signed in as viewer, with a read-only key')");
        await page.WaitForSelectorAsync("#plugin-t .state-Ready");
        await page.ClickAsync("#plugin-t .action-settings");
        await page.WaitForSelectorAsync("#detail:not([hidden])");

        Assert.False(await page.IsVisibleAsync("#plugin-t .action-disable"));
        Assert.False(await page.IsVisibleAsync("#plugin-t .action-reload"));
        Assert.False(await page.IsVisibleAsync("#save-settings"));
        Assert.False(await page.IsVisibleAsync("#upload-bundle"));
        Assert.True(await page.IsVisibleAsync("#setting-greeting"));
    }

    [Fact]
    public async Task Admin_SeesRecentAdminActions_WhoDidWhat_WithRefusalsAndFailedSignInsMarked()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        using var guess = await host.Client.PostAsync("/admin/login", new FormUrlEncodedContent([new("key", "guess")]));
        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);

        await page.ClickAsync("#plugin-t .action-disable");
        await page.WaitForSelectorAsync("#plugin-t .state-Stopped");
        await page.ClickAsync("#plugin-t .action-restart");
        await page.WaitForSelectorAsync("#audit tr.refused .audit-action:has-text('plugin.restart')");
        var rows = await page.Locator("#audit tbody tr").EvaluateAllAsync<string[]>(
            "rows => rows.map(r => r.className + ' ' + [...r.cells].slice(1, 6).map(c => c.textContent).join(' | '))");

        Assert.Equal(
            [
                "refused admin (127.0.0.1) | plugin.restart | t |  | 409",
                "done admin (127.0.0.1) | plugin.disable | t |  | 200",
                "done admin (127.0.0.1) | admin.sign-in |  |  | 302",
                "refused (anonymous) (127.0.0.1) | admin.sign-in |  |  | 401",
            ],
            rows);
        Assert.Contains("'t' is disabled", await page.TextContentAsync("#audit tr.refused .audit-detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_SeesASettingsRevisionsList_AndRestoresAnEarlierOne_ThePluginConfiguredWithIt()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"good","apiKey":"kept-secret"}"""))).EnsureSuccessStatusCode();
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"bad"}"""))).EnsureSuccessStatusCode();
        var browser = shared.Browser;
        var page = await SignInAsync(browser, host);
        page.Dialog += (_, dialog) => dialog.AcceptAsync();

        await page.ClickAsync("#plugin-t .action-settings");
        await page.WaitForSelectorAsync("#revision-1 .restore-revision");
        Assert.Contains("\"apiKey\":\"********\"", await page.TextContentAsync("#revision-1 code"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#revision-2 .restore-revision").CountAsync());
        await page.ClickAsync("#revision-1 .restore-revision");
        await page.WaitForSelectorAsync("#status:has-text(\"Revision 1 of t's settings restored as revision 3.\")");
        await page.WaitForSelectorAsync("#revision-3:has-text('(current)')");

        var configured = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");
        Assert.Equal("good", configured.GetProperty("greeting").GetString());
        Assert.Equal("kept-secret", configured.GetProperty("apiKey").GetString());
        Assert.Equal("good", await page.InputValueAsync("#setting-greeting"));
    }

    [Fact]
    public async Task Admin_EditsANestedSettingAsJson_ItsSecretShownMasked_AndKeptWhenTheMaskIsSavedBack_AMalformedEditRefusedOnThePage()
    {
        var manifest = PluginFolders.Test("t");
        manifest["settingsSchema"]!["properties"]!["connection"] = JsonNode.Parse("""{ "type": "object", "properties": { "host": { "type": "string" }, "password": { "type": "string", "writeOnly": true } } }""");
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"connection":{"host":"db","password":"n3sted-s3cr3t"}}"""))).EnsureSuccessStatusCode();
        var page = await SignInAsync(shared.Browser, host);

        await page.ClickAsync("#plugin-t .action-settings");
        await page.WaitForSelectorAsync("#setting-connection");
        var shown = JsonNode.Parse(await page.InputValueAsync("#setting-connection"))!;
        Assert.Equal(("db", "********"), (shown["host"]!.GetValue<string>(), shown["password"]!.GetValue<string>()));
        Assert.Equal("connection (JSON)", await page.TextContentAsync("label[for=setting-connection]"));

        // Malformed JSON never leaves the page; a value the schema refuses is named where it is.
        await page.FillAsync("#setting-connection", """{"host": "db2", """);
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#error-connection:has-text('Not valid JSON')");
        await page.FillAsync("#setting-connection", """{"host": 5, "password": "********"}""");
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#error-connection:has-text('host: StringExpected')");
        Assert.Equal(1, (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings")).GetProperty("revision").GetInt64());

        await page.FillAsync("#setting-connection", """{"host": "db2", "password": "********"}""");
        await page.ClickAsync("#save-settings");
        await page.WaitForSelectorAsync("#settings-saved:has-text('revision 2')");
        var configured = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");
        Assert.Equal("db2", configured.GetProperty("connection").GetProperty("host").GetString());
        Assert.Equal("n3sted-s3cr3t", configured.GetProperty("connection").GetProperty("password").GetString());
    }

    internal static async Task<IPage> SignInAsync(IBrowser browser, TestHost host, string key = TestHost.AdminKey)
    {
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        await page.GotoAsync(new Uri(host.Client.BaseAddress!, "/admin").ToString());
        await page.FillAsync("#key", key);
        await page.ClickAsync("button[type=submit]");
        return page;
    }
}
