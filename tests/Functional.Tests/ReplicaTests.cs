using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Replicas;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// Host replicas sharing one PostgreSQL store (a real server, private to this class): two real
/// hosts, each with its own plugins directory and its own worker of the same plugin, as two
/// pods of one gateway. What an admin does on one must reach the plugin on the other.
/// </summary>
public sealed class ReplicaTests(PostgresServer server) : IClassFixture<PostgresServer>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("gpt-replica-").FullName;

    [Fact]
    public async Task SettingsWrittenOnOneReplica_ReachThePluginOnTheOther_SecretsIncluded_AndADeletionToo()
    {
        var database = server.CreateDatabase();
        await using var one = await Replica(database, "pod-a");
        await using var other = await Replica(database, "pod-b");
        using var changes = new MetricCollector<long>(other.Services.GetRequiredService<IMeterFactory>(), PluginMetrics.MeterName, "plugin.replica.changes");
        await Task.WhenAll(one.WaitForStateAsync("t", WorkerState.Ready), other.WaitForStateAsync("t", WorkerState.Ready));

        (await one.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"hi","apiKey":"s3cret"}"""))).EnsureSuccessStatusCode();
        (await other.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", SettingsAndAdminTests.Json("""{"limit":7}"""))).EnsureSuccessStatusCode();

        var plugin = await Eventually(other, "/plugins/t/last-configured", s => s.Contains("hi", StringComparison.Ordinal));
        Assert.Equal("s3cret", plugin.GetProperty("apiKey").GetString());
        var tenant = await Eventually(one, "/plugins/t/last-configured?tenant=acme", s => s.Contains(":7", StringComparison.Ordinal));
        Assert.Equal(7, tenant.GetProperty("limit").GetInt32());
        // The other replica reads the secret back masked, as its own: it opened what the first sealed.
        var shown = await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        Assert.Equal(1, shown.GetProperty("revision").GetInt64());

        (await one.Admin.DeleteAsync("/admin/api/plugins/t/settings?tenant=acme")).EnsureSuccessStatusCode();

        await Eventually(other, "/plugins/t/last-configured?tenant=acme", s => s == "null");
        // The event records what the plugin answered, so it lands just after the plugin has the deletion.
        var events = new List<string>();
        await Until(async () => (events = await EventsAsync(other, "t")).Any(e => e.StartsWith("settings-deleted:", StringComparison.Ordinal)), "the deletion's event on pod-b");
        Assert.Contains("settings-changed: plugin-wide revision 1 on host replica 'pod-a'", events);
        Assert.Contains(changes.GetMeasurementSnapshot(), m => Equals(m.Tags["kind"], "Settings") && Equals(m.Tags["outcome"], "applied"));
        Assert.Contains(events, e => e.StartsWith("settings-deleted: tenant 'acme' on host replica 'pod-a'", StringComparison.Ordinal));
        // One trail for the deployment: both replicas' admin actions, seen from either.
        var trail = (await one.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit")).GetProperty("entries").EnumerateArray().Select(e => $"{e.GetProperty("action").GetString()} on {e.GetProperty("replica").GetString()}").ToList();
        Assert.Contains("settings.put on pod-a", trail);
        Assert.Contains("settings.put on pod-b", trail);
    }

    [Fact]
    public async Task SettingsAPluginWroteItself_ReachItsTwinOnTheOtherReplica_AndARefusalThereIsLoggedAndShown()
    {
        var database = server.CreateDatabase();
        var manifest = PluginFolders.Test("t");
        manifest["permissions"] = new System.Text.Json.Nodes.JsonArray("settings.read", "settings.write");
        await using var one = await TestHost.StartAsync([manifest], o =>
        {
            o.Store.PostgreSqlConnectionString = database;
            o.Store.ReplicaName = "pod-a";
        });
        await using var other = await TestHost.StartAsync([manifest.DeepClone().AsObject()], o => o.Store.PostgreSqlConnectionString = database);
        await Task.WhenAll(one.WaitForStateAsync("t", WorkerState.Ready), other.WaitForStateAsync("t", WorkerState.Ready));
        other.ExpectErrors = true;

        (await one.Admin.PostAsync("/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"from-plugin"}"""))).EnsureSuccessStatusCode();
        await Eventually(other, "/plugins/t/last-configured", s => s.Contains("from-plugin", StringComparison.Ordinal));
        // Not offered to the plugin that wrote it (it is the writer), so only its twin can refuse it.
        (await one.Admin.PostAsync("/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"reject-me"}"""))).EnsureSuccessStatusCode();

        await Until(async () => (await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t")).GetProperty("recentEvents").EnumerateArray()
            .Any(e => e.GetProperty("name").GetString() == "settings-refused" && e.GetProperty("detail").GetString()!.Contains("revision 2 on host replica 'pod-a': /greeting: this plugin refuses 'reject-me'", StringComparison.Ordinal)), "the refusal on the other replica");
        Assert.Contains(other.ErrorLogs, e => e.Contains("[ReplicaSettingsRefused]", StringComparison.Ordinal) && e.Contains("keeps its previous settings here until it restarts", StringComparison.Ordinal));
        Assert.Empty(one.ErrorLogs);
    }

    [Fact]
    public async Task APluginsSettingsWrite_WhileTheStoreIsDown_IsAnsweredUnavailable_SayingTheStoreFailed_AndGoesThroughOnceItAnswers()
    {
        var database = server.CreateDatabase();
        var manifest = PluginFolders.Test("t");
        manifest["permissions"] = new System.Text.Json.Nodes.JsonArray("settings.read", "settings.write");
        await using var host = await TestHost.StartAsync([manifest], o => o.Store.PostgreSqlConnectionString = database);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        host.ExpectErrors = true; // the store's refusal is logged as an error, as it must be
        using var storeFailures = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), PluginMetrics.MeterName, "plugin.store.failures");

        server.AllowConnections(database, false);
        server.DropConnections(database);
        using (var refused = await host.Admin.PostAsync("/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"while down"}""")))
        {
            // What the plugin's PutSettings call answered (gRPC's code to try again), not "Exception was thrown by handler".
            var said = await refused.Content.ReadAsStringAsync();
            Assert.StartsWith("Unavailable: the host's store failed (", said, StringComparison.Ordinal);
            Assert.Contains("the call did not complete: try it again later", said, StringComparison.Ordinal);
        }

        Assert.Equal("plugin", Assert.Single(storeFailures.GetMeasurementSnapshot()).Tags["caller"]);
        Assert.Contains(host.ErrorLogs, e => e.Contains("[PluginCallStoreFailed]", StringComparison.Ordinal));

        server.AllowConnections(database, true);
        (await host.Admin.PostAsync("/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"once up"}"""))).EnsureSuccessStatusCode();
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        Assert.Equal("once up", stored.GetProperty("settings").GetProperty("greeting").GetString());
    }

    [Fact]
    public async Task ASettingsWriteThePluginAcceptedButTheStoreRefused_IsTakenBackFromThePlugin_AndAnswered503()
    {
        var database = server.CreateDatabase();
        await using var host = await Replica(database);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"kept"}"""))).EnsureSuccessStatusCode();
        host.ExpectErrors = true; // the store's refusal is logged as an error, as it must be

        // A store that reads but refuses to write (a full disk, a read-only failover), after the plugin has said yes.
        await Sql(database, "CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no room left, say'; END $$; CREATE TRIGGER refuse_writes BEFORE INSERT OR UPDATE ON settings FOR EACH ROW EXECUTE FUNCTION refuse_writes()");
        using (var refused = await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"never stored"}""")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("no room left, say", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Contains("kept", await host.Admin.GetStringAsync("/plugins/t/last-configured"), StringComparison.Ordinal);
        using (var refused = await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", SettingsAndAdminTests.Json("""{"limit":3}""")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        Assert.Equal("null", await host.Admin.GetStringAsync("/plugins/t/last-configured?tenant=acme"));

        await Sql(database, "DROP TRIGGER refuse_writes ON settings");
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"stored now"}"""))).EnsureSuccessStatusCode();
        Assert.Contains("stored now", await host.Admin.GetStringAsync("/plugins/t/last-configured"), StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> StatusOfAsync(Task<HttpResponseMessage> request)
    {
        using var response = await request;
        return response.StatusCode;
    }

    private static async Task Sql(string database, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task APluginHungInConfigureOnOneReplica_DelaysNoOtherPluginsChanges()
    {
        var database = server.CreateDatabase();
        var hung = PluginFolders.Test("h");
        hung["permissions"] = new System.Text.Json.Nodes.JsonArray("settings.read", "settings.write");
        Task<TestHost> Start() => TestHost.StartAsync([hung.DeepClone().AsObject(), PluginFolders.Test("t")], o => o.Store.PostgreSqlConnectionString = database);
        await using var one = await Start();
        await using var other = await Start();
        await Task.WhenAll(one.WaitForStateAsync("h", WorkerState.Ready), other.WaitForStateAsync("h", WorkerState.Ready), other.WaitForStateAsync("t", WorkerState.Ready));
        other.ExpectErrors = true; // h's Configure running to its deadline there is reported, as it must be

        // h writes it itself, so only its twin on the other replica is offered it, and hangs there until the start timeout (20 s).
        (await one.Admin.PostAsync("/plugins/h/settings", SettingsAndAdminTests.Json("""{"greeting":"hang-me"}"""))).EnsureSuccessStatusCode();
        await Eventually(other, "/plugins/h/last-configured", s => s.Contains("hang-me", StringComparison.Ordinal));
        var sent = DateTime.UtcNow;
        (await one.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"not held"}"""))).EnsureSuccessStatusCode();

        await Eventually(other, "/plugins/t/last-configured", s => s.Contains("not held", StringComparison.Ordinal));
        Assert.True(DateTime.UtcNow - sent < TimeSpan.FromSeconds(10), $"t's settings took {DateTime.UtcNow - sent} to cross while h hung");
    }

    [Fact]
    public async Task DisablingOnOneReplica_StopsThePluginOnTheOther_AndEnablingStartsItAgain_AndATenantScopeApplies()
    {
        var database = server.CreateDatabase();
        await using var one = await Replica(database);
        await using var other = await Replica(database);
        await other.WaitForStateAsync("t", WorkerState.Ready);

        (await one.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();
        await other.WaitForStateAsync("t", WorkerState.Stopped);
        var disabled = await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        Assert.Equal("disabled", disabled.GetProperty("lifecycle").GetString());

        (await one.Admin.PostAsync("/admin/api/plugins/t/enable", null)).EnsureSuccessStatusCode();
        await other.WaitForStateAsync("t", WorkerState.Ready);

        (await one.Admin.PutAsync("/admin/api/plugins/t/tenant-scope", SettingsAndAdminTests.Json("""{"only": ["acme"]}"""))).EnsureSuccessStatusCode();
        await Until(async () => (await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/tenant-scope")).ToString().Contains("acme", StringComparison.Ordinal), "the tenant scope on the other replica");
    }

    [Fact]
    public async Task AReplicaStartedWhileAPluginIsDisabled_MasksTheSecretsOfTheSchemaItPublishedOnlyInDescribe()
    {
        var database = server.CreateDatabase();
        var describedOnly = PluginFolders.Test("t");
        describedOnly.Remove("settingsSchema");
        await using var one = await TestHost.StartAsync([describedOnly], o => o.Store.PostgreSqlConnectionString = database);
        await one.WaitForStateAsync("t", WorkerState.Ready);
        (await one.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"apiKey":"d3scribed-s3cr3t"}"""))).EnsureSuccessStatusCode();
        (await one.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();

        // Its worker never starts here: the schema is what the other replica's worker described.
        await using var other = await TestHost.StartAsync([describedOnly], o => o.Store.PostgreSqlConnectionString = database);
        var shown = await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");

        Assert.Equal(WorkerState.Stopped, other.Supervisor("t").State);
        Assert.Equal("********", shown.GetProperty("settings").GetProperty("apiKey").GetString());
    }

    [Fact]
    public async Task AReplicaThatLostItsConnection_SaysSo_ReconnectsAndCatchesUpOnWhatItMissed()
    {
        var database = server.CreateDatabase();
        await using var one = await Replica(database);
        await using var other = await Replica(database);
        await other.WaitForStateAsync("t", WorkerState.Ready);
        var link = other.Services.GetRequiredService<ReplicaLink>();
        // Read from the host's own meter: two hosts in one test process share OpenTelemetry's listeners, so /metrics would mix them.
        using var losses = new MetricCollector<long>(other.Services.GetRequiredService<IMeterFactory>(), PluginMetrics.MeterName, "plugin.replica.link.losses");
        using var changes = new MetricCollector<long>(other.Services.GetRequiredService<IMeterFactory>(), PluginMetrics.MeterName, "plugin.replica.changes");
        other.ExpectErrors = true; // the lost link is logged as an error, as it must be
        one.ExpectErrors = true;

        server.DropConnections(database);
        await Until(() => Task.FromResult(link.Losses == 1), "the other replica to see its link lost");
        // Right after the drop, a pooled connection the server is still ending may meet the write:
        // the admin is answered 503 and sends it again, as the answer says.
        var status = HttpStatusCode.ServiceUnavailable;
        await Until(async () => (status = await StatusOfAsync(one.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"missed?"}""")))) != HttpStatusCode.ServiceUnavailable, "the write on the first replica once its store answers");
        Assert.Equal(HttpStatusCode.OK, status);

        await Eventually(other, "/plugins/t/last-configured", s => s.Contains("missed?", StringComparison.Ordinal));
        await Until(() => Task.FromResult(link.Listening), "the other replica to listen again");
        using var health = await other.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains(other.ErrorLogs, e => e.Contains("lost its connection to the PostgreSQL store's notices", StringComparison.Ordinal));
        var metrics = await other.Client.GetStringAsync("/metrics");
        Assert.Equal(1, losses.GetMeasurementSnapshot().EvaluateAsCounter());
        await Until(() => Task.FromResult(changes.GetMeasurementSnapshot().Any(m => Equals(m.Tags["kind"], "Resync") && Equals(m.Tags["outcome"], "applied"))), "the resync to be counted");
    }

    [Fact]
    public async Task AnAdmin_SeesOnThePage_AReplicaThatCannotReachTheStore_AndSeesItHearTheOthersAgain()
    {
        var database = server.CreateDatabase();
        await using var host = await Replica(database);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        host.ExpectErrors = true; // the lost link is logged as an error, as it must be
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await AdminPageTests.LaunchAsync(playwright);
        var page = await AdminPageTests.SignInAsync(browser, host);
        await page.WaitForSelectorAsync("#store:has-text(\"this one ('replica') hears the others' changes\")");
        await page.WaitForSelectorAsync("#audit .audit-replica:has-text('replica')");
        Assert.True(await page.IsVisibleAsync("#audit-replica"));

        server.AllowConnections(database, false);
        server.DropConnections(database);

        await page.WaitForSelectorAsync("#store.error:has-text(\"does not hear the others' changes since\")");
        Assert.Contains("and serves with what it last heard", await page.TextContentAsync("#store"), StringComparison.Ordinal);
        using (var health = await host.Client.GetAsync("/healthz"))
        {
            var store = (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("entries").GetProperty("shared-store");
            Assert.Equal("Unhealthy", store.GetProperty("status").GetString());
            Assert.StartsWith("PostgreSQL does not answer", store.GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        server.AllowConnections(database, true);

        await page.WaitForSelectorAsync("#store:not(.error):has-text(\"hears the others' changes\")", new() { Timeout = 60_000 });
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/store");
        Assert.Equal(("postgresql", true, 1), (view.GetProperty("kind").GetString(), view.GetProperty("listening").GetBoolean(), view.GetProperty("linkLosses").GetInt32()));
    }

    [Fact]
    public async Task TwoReplicasAttachingOneWorker_EachGetsTheBodiesItKeptBack_FromItsOwnWayBack()
    {
        var database = server.CreateDatabase();
        var pki = Directory.CreateTempSubdirectory("gpt-pki-").FullName;
        try
        {
            var hosts = TestPki.Create(pki, "hosts");
            var plugins = TestPki.Create(pki, "plugins");
            var hostIdentity = hosts.IssueIdentity("host");
            var port = LoopbackPort.Free();
            await using var worker = await AttachedWorker.StartAsync("away", port, plugins.IssueIdentity("plugin"), hosts.CaPath);
            var manifest = PluginFolders.Test("away");
            manifest.Remove("command");
            manifest.Remove("args");
            manifest["attach"] = new System.Text.Json.Nodes.JsonObject { ["address"] = $"https://localhost:{port}" };
            Task<TestHost> Start(string name)
            {
                var callback = LoopbackPort.Free();
                return TestHost.StartAsync([manifest.DeepClone().AsObject()], o =>
                {
                    o.Store.PostgreSqlConnectionString = database;
                    o.Store.ReplicaName = name;
                    o.Attach.CertificatePath = hostIdentity.Certificate;
                    o.Attach.KeyPath = hostIdentity.Key;
                    o.Attach.TrustedCaPath = plugins.CaPath;
                    o.Attach.CallbackListen = $"127.0.0.1:{callback}";
                    o.Attach.CallbackAddress = $"https://localhost:{callback}";
                });
            }

            await using var one = await Start("pod-a");
            await one.WaitForStateAsync("away", WorkerState.Ready);
            // The second attach is the worker's last Describe: its way back is the newest.
            await using var other = await Start("pod-b");
            await other.WaitForStateAsync("away", WorkerState.Ready);

            foreach (var host in new[] { one, other, one })
            {
                var body = new byte[256 * 1024];
                Random.Shared.NextBytes(body);
                using var answer = await host.Admin.PostAsync("/plugins/away/upload", new ByteArrayContent(body));
                Assert.True(answer.IsSuccessStatusCode, $"upload through {host.Root}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
                var uploaded = await answer.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)), uploaded.GetProperty("sha256").GetString());
                Assert.Equal("PulledBodyStream", uploaded.GetProperty("transport").GetString());
            }
        }
        finally
        {
            Directory.Delete(pki, recursive: true);
        }
    }

    [Fact]
    public async Task AHostWhoseStoreDoesNotAnswer_FailsToStart_SayingWhatToCheck()
    {
        var started = TestHost.StartAsync([PluginFolders.Test("t")], o =>
        {
            o.Store.PostgreSqlConnectionString = "Host=/nonexistent-socket-directory;Username=postgres;Database=plugins;Timeout=1";
            o.Store.ConnectTimeout = TimeSpan.FromSeconds(2);
        });

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => started);

        Assert.Contains("cannot reach its PostgreSQL store (PluginHost:Store:PostgreSqlConnectionString) after 2 s", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Check that the server is up", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABundleInstalledOnOneReplica_RunsOnTheOthers_OnOneStartedLaterToo_AndItsUpgradeAndUninstallFollow()
    {
        var database = server.CreateDatabase();
        using var bundles = new SignedBundles(_work);
        var trust = bundles.TrustDirectory();
        await using var one = await StrictReplica(database, "pod-a", trust);
        await using var other = await StrictReplica(database, "pod-b", trust);
        using var changes = new MetricCollector<long>(other.Services.GetRequiredService<IMeterFactory>(), PluginMetrics.MeterName, "plugin.replica.changes");

        await InstallAsync(one, bundles.Pack("up", "1.0.0"));
        await Until(async () => await VersionAsync(other) == "1.0.0", "1.0.0 on pod-b");
        await InstallAsync(one, bundles.Pack("up", "2.0.0"));
        await Until(async () => await VersionAsync(other) == "2.0.0", "the upgrade on pod-b");
        await Until(async () => (await EventsAsync(other, "up")).Any(e => e.StartsWith("install-followed: 2.0.0 installed on host replica 'pod-a' by ", StringComparison.Ordinal) && e.EndsWith("upgraded from 1.0.0 here", StringComparison.Ordinal)), "pod-b's event for the upgrade it followed");
        Assert.Contains(changes.GetMeasurementSnapshot(), m => Equals(m.Tags["kind"], "Installed") && Equals(m.Tags["outcome"], "applied"));

        // A replica that was not running (a new pod): it installs what the others run as it starts.
        await using (var later = await StrictReplica(database, "pod-c", trust))
        {
            await Until(async () => await VersionAsync(later) == "2.0.0", "2.0.0 on pod-c, started after the install");
            Assert.DoesNotContain("pod-c", (await File.ReadAllTextAsync(Path.Combine(later.PluginsDirectory, Directory.GetDirectories(later.PluginsDirectory).Single(), "plugin.json"))).Split('"'));
        }

        // A rollback through any replica is an install as the others are (of the bundle it kept), and followed.
        using (var back = await other.Admin.PostAsync("/admin/api/plugins/up/rollback", null))
        {
            Assert.True(back.IsSuccessStatusCode, await back.Content.ReadAsStringAsync());
        }

        await Until(async () => await VersionAsync(one) == "1.0.0", "the rollback on pod-a");

        // The shared history has each install once, made by the replica the admin used.
        var installs = await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/installs");
        Assert.Equal(["1.0.0", "2.0.0", "1.0.0"], installs.EnumerateArray().Select(i => i.GetProperty("version").GetString()));

        (await one.Admin.DeleteAsync("/admin/api/plugins/up?keepSettings=false")).EnsureSuccessStatusCode();
        await Until(async () => (await other.Admin.GetAsync("/admin/api/plugins/up")).StatusCode == HttpStatusCode.NotFound, "the uninstall on pod-b");
        await Until(() => Task.FromResult(Directory.GetDirectories(other.PluginsDirectory).Length == 0), "pod-b's copy of the plugin removed");
        Assert.Empty(Directory.GetFiles(Path.Combine(other.Root, "state", "staging"))); // followed bundles leave it once installed
    }

    [Fact]
    public async Task AnInstallOrUninstallTheStoreCannotRecord_ChangesNothing_AndSucceedsOnceTheStoreAnswers()
    {
        var database = server.CreateDatabase();
        using var bundles = new SignedBundles(_work);
        await using var host = await StrictReplica(database, "pod-a", bundles.TrustDirectory());
        host.ExpectErrors = true; // the store's refusal is logged as an error, as it must be
        using var storeFailures = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), PluginMetrics.MeterName, "plugin.store.failures");
        using var staged = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(bundles.Pack("up", "1.0.0"))));
        var address = (await staged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("address").GetString();
        var install = $"/admin/api/bundles/{address}/install?accept=settings.read";
        var acmeOnly = JsonContent.Create(new { tenantScope = new { only = new[] { "acme" } } });

        server.AllowConnections(database, false);
        server.DropConnections(database);
        using (var refused = await host.Admin.PostAsync(install, null))
        {
            // Without a scope the store's first refusal comes as the plugin is enabled.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        Assert.Empty(Directory.GetDirectories(host.PluginsDirectory));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Admin.GetAsync("/admin/api/plugins/up")).StatusCode);
        using (var refused = await host.Admin.PostAsync(install, acmeOnly))
        {
            // The store's fault, said as such, rather than an empty 500.
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("The host's store failed", problem.GetProperty("title").GetString());
            Assert.Contains("Send the request again once the store answers", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        Assert.All(storeFailures.GetMeasurementSnapshot(), m => Assert.Equal("admin", m.Tags["caller"]));
        Assert.Equal(2, storeFailures.GetMeasurementSnapshot().Count);

        // Installed without its scope, a folder left behind would load at the next start for every
        // tenant, and would refuse this very install as a folder "another host" put there.
        Assert.Empty(Directory.GetDirectories(host.PluginsDirectory));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Admin.GetAsync("/admin/api/plugins/up")).StatusCode);

        server.AllowConnections(database, true);
        using (var installed = await host.Admin.PostAsync(install, acmeOnly))
        {
            Assert.True(installed.IsSuccessStatusCode, await installed.Content.ReadAsStringAsync());
        }

        await Until(async () => await VersionAsync(host) == "1.0.0", "1.0.0 serving once the store answers");
        var scope = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/tenant-scope");
        Assert.Contains("acme", scope.ToString(), StringComparison.Ordinal);

        // An uninstall the store cannot record leaves the plugin serving, to be sent again.
        server.AllowConnections(database, false);
        server.DropConnections(database);
        using (var refused = await host.Admin.DeleteAsync("/admin/api/plugins/up?keepSettings=false"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        Assert.Equal("1.0.0", await VersionAsync(host));
        server.AllowConnections(database, true);
        (await host.Admin.DeleteAsync("/admin/api/plugins/up?keepSettings=false")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NotFound, (await host.Admin.GetAsync("/admin/api/plugins/up")).StatusCode);
        Assert.Empty(Directory.GetDirectories(host.PluginsDirectory));
    }

    [Fact]
    public async Task ABundleUploadedThroughOneReplica_InstallsThroughAnother_AsALoadBalancerMaySendTheTwoRequests()
    {
        var database = server.CreateDatabase();
        using var bundles = new SignedBundles(_work);
        var trust = bundles.TrustDirectory();
        await using var one = await StrictReplica(database, "pod-a", trust);
        await using var other = await StrictReplica(database, "pod-b", trust);

        var staged = await one.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(bundles.Pack("up", "1.0.0"))));
        var address = (await staged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("address").GetString();
        using var installed = await other.Admin.PostAsync($"/admin/api/bundles/{address}/install?accept=settings.read", null);

        Assert.True(installed.IsSuccessStatusCode, await installed.Content.ReadAsStringAsync());
        await Until(async () => await VersionAsync(other) == "1.0.0", "1.0.0 on pod-b, where it was installed");
        await Until(async () => await VersionAsync(one) == "1.0.0", "1.0.0 on pod-a, where it was uploaded");
        await Until(() => Task.FromResult(Directory.GetFiles(Path.Combine(one.Root, "state", "staging")).Length == 0), "pod-a's staged copy gone once it runs the bundle");
        var installs = await one.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/up/installs");
        Assert.Equal(address, Assert.Single(installs.EnumerateArray()).GetProperty("address").GetString());
    }

    [Fact]
    public async Task AReplicaThatDoesNotTrustTheBundlesSigner_KeepsWhatItHas_SaysWhyOnce_AndFollowsOnceTheKeyIsThere()
    {
        var database = server.CreateDatabase();
        using var bundles = new SignedBundles(_work);
        using var others = new SignedBundles(Path.Combine(_work, "others"));
        await using var one = await StrictReplica(database, "pod-a", bundles.TrustDirectory());
        var trust = others.TrustDirectory();
        await using var other = await StrictReplica(database, "pod-b", trust, retry: TimeSpan.FromMilliseconds(200));
        other.ExpectErrors = true;
        using var changes = new MetricCollector<long>(other.Services.GetRequiredService<IMeterFactory>(), PluginMetrics.MeterName, "plugin.replica.changes");
        bool Counted(string kind, string outcome) => changes.GetMeasurementSnapshot().Any(m => Equals(m.Tags["kind"], kind) && Equals(m.Tags["outcome"], outcome));

        await InstallAsync(one, bundles.Pack("up", "1.0.0"));
        await Until(async () => await VersionAsync(one) == "1.0.0", "1.0.0 on pod-a");
        await Until(() => Task.FromResult(Counted("Installed", "failed")), "pod-b's refusal");
        // Tries at 0.2, 0.6 and 1.4 s meet the same refusal: reported once, not once a try.
        await Task.Delay(TimeSpan.FromSeconds(1.6));

        Assert.Null(other.Catalog.Find("up"));
        var refusal = Assert.Single(other.ErrorLogs, e => e.Contains("was installed on host replica 'pod-a'", StringComparison.Ordinal));
        Assert.Contains("signed by an unknown key", refusal, StringComparison.Ordinal);
        Assert.Contains("it tries again by itself", refusal, StringComparison.Ordinal);
        Assert.Single(changes.GetMeasurementSnapshot(), m => Equals(m.Tags["outcome"], "failed"));
        Assert.False(Counted("Retry", "applied"));

        // Where an admin looks: pod-b runs no row for 'up', so the store's line and /healthz say it.
        var notFollowed = Assert.Single((await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/store")).GetProperty("notFollowed").EnumerateArray());
        Assert.Equal("up", notFollowed.GetProperty("pluginId").GetString());
        Assert.Contains("signed by an unknown key", notFollowed.GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.Equal(("Degraded", true), await SharedStoreHealthAsync(other, "could not follow what other replicas installed or uninstalled: up (since"));
        using (var playwright = await Microsoft.Playwright.Playwright.CreateAsync())
        {
            await using var browser = await AdminPageTests.LaunchAsync(playwright);
            var page = await AdminPageTests.SignInAsync(browser, other);
            await page.WaitForSelectorAsync("#store.error:has-text(\"It could not follow 'up'\")");
            Assert.Contains("signed by an unknown key", await page.TextContentAsync("#store"), StringComparison.Ordinal);
        }

        // The signer's key mounted into pod-b (a ConfigMap updated, say): no one installs anything again.
        foreach (var key in Directory.GetFiles(bundles.TrustDirectory(), "*.pem"))
        {
            File.Copy(key, Path.Combine(trust, "pod-a-signer-" + Path.GetFileName(key)));
        }

        await Until(async () => await VersionAsync(other) == "1.0.0", "1.0.0 on pod-b once it trusts the signer");
        // The plugin answers as soon as it is Ready; the follow is counted and cleared just after its install returns.
        await Until(async () => (await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/store")).GetProperty("notFollowed").GetArrayLength() == 0, "pod-b in step again");
        Assert.True(Counted("Retry", "applied"));
        Assert.Contains(await EventsAsync(other, "up"), e => e.StartsWith("install-followed: 1.0.0 installed on host replica 'pod-a'", StringComparison.Ordinal));
        Assert.Empty((await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/store")).GetProperty("notFollowed").EnumerateArray());
        Assert.Equal(("Healthy", true), await SharedStoreHealthAsync(other, "other replicas' changes arrive"));
    }

    private static async Task<(string Status, bool Says)> SharedStoreHealthAsync(TestHost host, string text)
    {
        using var health = await host.Client.GetAsync("/healthz");
        var store = (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("entries").GetProperty("shared-store");
        return (store.GetProperty("status").GetString()!, store.GetProperty("description").GetString()!.Contains(text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFollowRefusedForADependencyThisReplicaLacks_IsTriedAgainAsSoonAsTheDependencyIsFollowed()
    {
        var database = server.CreateDatabase();
        using var bundles = new SignedBundles(_work);
        var trust = bundles.TrustDirectory();
        // 'up' is in pod-a's image, not in pod-b's.
        var image = Directory.CreateDirectory(Path.Combine(_work, "image-a", "up")).FullName;
        await using (var archive = File.OpenRead(bundles.Pack("up", "1.0.0")))
        await using (var gzip = new System.IO.Compression.GZipStream(archive, System.IO.Compression.CompressionMode.Decompress))
        {
            await System.Formats.Tar.TarFile.ExtractToDirectoryAsync(gzip, image, overwriteFiles: false);
        }

        await using var one = await StrictReplica(database, "pod-a", trust, Path.GetDirectoryName(image));
        await using var other = await StrictReplica(database, "pod-b", trust, retry: TimeSpan.FromMinutes(1));
        other.ExpectErrors = true;

        await InstallAsync(one, bundles.Pack("down", "1.0.0", ["normal"], [("up", "[1.0.0, 2.0.0)")]));
        await Until(() => Task.FromResult(other.ErrorLogs.Any(e => e.Contains("Plugin 'down' 1.0.0 was installed on host replica 'pod-a'", StringComparison.Ordinal))), "pod-b refusing down");
        Assert.Null(other.Catalog.Find("down"));
        Assert.Contains("dependency", Assert.Single(other.ErrorLogs), StringComparison.Ordinal);

        // An admin upgrades 'up' through pod-a: pod-b follows it, then down at once, not a minute later.
        await InstallAsync(one, bundles.Pack("up", "1.1.0"));
        await Until(() => Task.FromResult(other.Catalog.Find("down") is not null), "down on pod-b once up is there");
        Assert.Equal("1.1.0", other.Catalog.Find("up")!.Manifest!.Version);
    }

    [Fact]
    public async Task ReplicasSharingOnePluginsDirectory_AreToldToGiveEachItsOwn_AndTheInstallKeepsServing()
    {
        var database = server.CreateDatabase();
        using var bundles = new SignedBundles(_work);
        var trust = bundles.TrustDirectory();
        var plugins = Directory.CreateDirectory(Path.Combine(_work, "shared-plugins")).FullName;
        await using var one = await StrictReplica(database, "pod-a", trust, plugins);
        await using var other = await StrictReplica(database, "pod-b", trust, plugins);
        other.ExpectErrors = true;

        await InstallAsync(one, bundles.Pack("up", "1.0.0"));
        await Until(() => Task.FromResult(other.ErrorLogs.Any(e => e.Contains("does another host replica share this plugins directory?", StringComparison.Ordinal))), "pod-b saying why it cannot follow");

        Assert.Null(other.Catalog.Find("up"));
        await Until(async () => await VersionAsync(one) == "1.0.0", "1.0.0 still serving on pod-a");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static Task<TestHost> StrictReplica(string database, string name, string trust, string? plugins = null, TimeSpan? retry = null) =>
        TestHost.StartAsync([], o =>
        {
            o.Store.FollowRetryInterval = retry ?? o.Store.FollowRetryInterval;
            o.PluginsDirectory = plugins ?? o.PluginsDirectory;
            o.Store.PostgreSqlConnectionString = database;
            o.Store.ReplicaName = name;
            o.AllowUnsignedPlugins = false;
            o.TrustedKeysDirectory = trust;
        });

    private static async Task InstallAsync(TestHost host, string bundle)
    {
        var staged = await host.Admin.PostAsync("/admin/api/bundles", new ByteArrayContent(await File.ReadAllBytesAsync(bundle)));
        var address = (await staged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("address").GetString();
        var installed = await host.Admin.PostAsync($"/admin/api/bundles/{address}/install?accept=settings.read", null);
        Assert.True(installed.IsSuccessStatusCode, await installed.Content.ReadAsStringAsync());
    }

    private static async Task<string?> VersionAsync(TestHost host) =>
        await host.Admin.GetAsync("/plugins/up/whoami") is { IsSuccessStatusCode: true } answer
            ? (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetString()
            : null;

    private static async Task<List<string>> EventsAsync(TestHost host, string id) =>
        [.. (await host.Admin.GetFromJsonAsync<JsonElement>($"/admin/api/plugins/{id}")).GetProperty("recentEvents").EnumerateArray()
            .Select(e => $"{e.GetProperty("name").GetString()}: {e.GetProperty("detail").GetString()}")];

    private static Task<TestHost> Replica(string database, string name = "replica") =>
        TestHost.StartAsync([PluginFolders.Test("t")], o =>
        {
            o.Store.PostgreSqlConnectionString = database;
            o.Store.ReplicaName = name;
        });

    private static async Task<JsonElement> Eventually(TestHost host, string path, Func<string, bool> condition)
    {
        var last = string.Empty;
        await Until(async () => condition(last = await host.Admin.GetStringAsync(path)), $"{path} to change (last: {last})");
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    internal static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited 20 s for {what}");
            }

            await Task.Delay(50);
        }
    }
}
