using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Settings through the admin API and the PluginHost service, a real SQLite file, and the admin policy.</summary>
public sealed class SettingsAndAdminTests
{
    [Fact]
    public async Task ValidSettings_AreCommitted_AndThePluginReadsThemOverTheContract()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var put = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"hi","limit":3}"""));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(1, (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64());
        var seen = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");
        Assert.Equal("hi", seen.GetProperty("greeting").GetString());
        Assert.Equal(3, seen.GetProperty("limit").GetInt32());
    }

    [Fact]
    public async Task OnTheEmbeddedStore_ASettingsWriteItRefuses_Is503WithItsError_AndTakenBackFromThePlugin()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"kept"}"""))).EnsureSuccessStatusCode();
        host.ExpectErrors = true; // the store's refusal is logged as an error, as it must be

        // The SQLite file refusing writes after the plugin has said yes, as a full disk would.
        await host.ExecuteOnStoreAsync("CREATE TRIGGER refuse_inserts BEFORE INSERT ON settings BEGIN SELECT RAISE(ABORT, 'no room left, say'); END; CREATE TRIGGER refuse_updates BEFORE UPDATE ON settings BEGIN SELECT RAISE(ABORT, 'no room left, say'); END;");
        using (var refused = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"never stored"}""")))
        {
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("The host's store failed", problem.GetProperty("title").GetString());
            Assert.StartsWith("SqliteException: ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("no room left, say", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal("kept", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured")).GetProperty("greeting").GetString());
        Assert.Contains(host.ErrorLogs, e => e.Contains("[AdminStoreFailed]", StringComparison.Ordinal));

        await host.ExecuteOnStoreAsync("DROP TRIGGER refuse_inserts; DROP TRIGGER refuse_updates;");
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"stored now"}"""))).EnsureSuccessStatusCode();
        Assert.Equal("stored now", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured")).GetProperty("greeting").GetString());
    }

    [Fact]
    public async Task ASettingsWrite_CommittedWhileTheWorkerStarts_ReachesItOnceReady()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        // The worker's Configure takes 2 s for these, at every start too: a window to write in.
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"pause-me"}"""))).EnsureSuccessStatusCode();

        (await host.Admin.PostAsync("/admin/api/plugins/t/restart", null)).EnsureSuccessStatusCode();
        await host.WaitForAsync("t", s => s.State == WorkerState.Starting && s.Pid is not null, "a new worker starting");
        var put = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"written meanwhile"}"""));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.NotEqual(WorkerState.Ready, host.Supervisor("t").Snapshot.State);

        await host.WaitForStateAsync("t", WorkerState.Ready);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string seen;
        while (!(seen = await host.Admin.GetStringAsync("/plugins/t/last-configured")).Contains("written meanwhile", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Contains("written meanwhile", seen, StringComparison.Ordinal);
        var events = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t")).GetProperty("recentEvents").EnumerateArray().Select(e => $"{e.GetProperty("name").GetString()}: {e.GetProperty("detail").GetString()}");
        Assert.Contains("settings-caught-up: plugin-wide revision 2, written while the worker started: Configured", events);
    }

    [Fact]
    public async Task EverySettingsEndpoint_RefusesAnUnknownPluginAndABadTenant_BeforeReadingOrWriting_AndTheTrailKeepsTheRefusals()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (string Method, string Path)[] endpoints =
        [
            ("GET", "/admin/api/plugins/{0}/settings"),
            ("GET", "/admin/api/plugins/{0}/settings/tenants"),
            ("DELETE", "/admin/api/plugins/{0}/settings?tenant=acme"),
            ("PUT", "/admin/api/plugins/{0}/settings"),
            ("GET", "/admin/api/plugins/{0}/settings/revisions"),
            ("POST", "/admin/api/plugins/{0}/settings/revisions/1/restore"),
        ];

        foreach (var (method, path) in endpoints)
        {
            using var unknown = await host.Admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), string.Format(null, path, "nope")) { Content = method is "PUT" ? Json("{}") : null });
            var badTenantPath = string.Format(null, path, "t").Replace("tenant=acme", "x=1", StringComparison.Ordinal) + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "tenant=%0A";
            using var badTenant = await host.Admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), badTenantPath) { Content = method is "PUT" ? Json("{}") : null });

            Assert.True(unknown.StatusCode == HttpStatusCode.NotFound, $"{method} {path} for an unknown plugin: {unknown.StatusCode}");
            Assert.Contains("No plugin with id 'nope' is installed", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.True(badTenant.StatusCode == HttpStatusCode.BadRequest, $"{method} {badTenantPath}: {badTenant.StatusCode}");
            Assert.Contains("Bad tenant id", await badTenant.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var audit = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit")).GetProperty("entries").EnumerateArray()
            .Select(e => $"{e.GetProperty("action").GetString()} {e.GetProperty("status").GetInt32()}").Order(StringComparer.Ordinal);
        Assert.Equal(["settings.delete 400", "settings.delete 404", "settings.put 400", "settings.put 404", "settings.restore 400", "settings.restore 404"], audit);
        Assert.Equal(0, (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings")).GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task InvalidSettings_AreRefused_WithEveryFieldErrorAtOnce()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var put = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":5,"limit":0,"colour":"red"}"""));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType!.MediaType);
        var paths = (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("/greeting", paths);
        Assert.Contains("/limit", paths);
        Assert.Contains(paths, p => p!.Contains("colour", StringComparison.Ordinal) || p == "");
        Assert.Equal(0, (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings")).GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task ATenantIdWithControlCharactersOrTooLong_Is400_AndNothingIsStored()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var control = await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=a%00b", Json("{\"greeting\":\"hi\"}"));
        var tooLong = await host.Admin.PutAsync($"/admin/api/plugins/t/settings?tenant={new string('x', 129)}", Json("{\"greeting\":\"hi\"}"));
        var read = await host.Admin.GetAsync("/admin/api/plugins/t/settings?tenant=%0A");
        var longest = await host.Admin.PutAsync($"/admin/api/plugins/t/settings?tenant={new string('x', 128)}", Json("{\"greeting\":\"hi\"}"));

        Assert.Equal(HttpStatusCode.BadRequest, control.StatusCode);
        Assert.Contains("control character", await control.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("129 characters long; use at most 128", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, read.StatusCode);
        Assert.Equal(HttpStatusCode.OK, longest.StatusCode);
        var configured = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/configured");
        Assert.DoesNotContain(configured.EnumerateArray(), t => t.GetString()!.Any(char.IsControl) || t.GetString()!.Length > 128);
    }

    [Fact]
    public async Task ABodyThatIsNotUtf8_Is400_AndNothingIsSavedOrChanged()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"kept"}"""))).EnsureSuccessStatusCode();
        static ByteArrayContent Latin1(string json) => new(System.Text.Encoding.Latin1.GetBytes(json)) { Headers = { ContentType = new("application/json") } };

        // "Grüße" in Latin-1, as a tool that does not encode its output sends it: it used to be saved, and
        // answered 200, with U+FFFD in place of the ü and the ß.
        var settings = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Latin1("""{"greeting":"Grüße"}"""));
        var scope = await host.Admin.PutAsync("/admin/api/plugins/t/tenant-scope", Latin1("""{"only":["Zürich"]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, settings.StatusCode);
        Assert.Contains("Nothing was saved: the body holds bytes that are not UTF-8", await settings.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, scope.StatusCode);
        Assert.Contains("Nothing was changed: the body holds bytes that are not UTF-8", await scope.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        Assert.Equal("kept", stored.GetProperty("settings").GetProperty("greeting").GetString());
        Assert.Equal(1, stored.GetProperty("revision").GetInt64());
        Assert.Equal("every tenant", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t")).GetProperty("tenantScope").GetString());
    }

    [Fact]
    public async Task TwoAdminsEditingTheSameSettings_TheWriteFromAStaleRead_Is412_AndLosesNothing()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var read = await host.Admin.GetAsync("/admin/api/plugins/t/settings");
        var tag = read.Headers.ETag!.Tag;

        var first = await PutAsync(host, "{\"greeting\":\"first\"}", tag);
        var second = await PutAsync(host, "{\"greeting\":\"second\"}", tag);
        var malformed = await PutAsync(host, "{\"greeting\":\"third\"}", "3");
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        var unconditional = await PutAsync(host, "{\"greeting\":\"fourth\"}", null);

        Assert.Equal("\"0\"", tag);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("\"1\"", first.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        Assert.Contains("If-Match names revision 0, and the stored settings are at revision 1", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("first", stored.GetProperty("settings").GetProperty("greeting").GetString());
        Assert.Equal(1, stored.GetProperty("revision").GetInt64());
        Assert.Equal(HttpStatusCode.OK, unconditional.StatusCode);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        var changes = view.GetProperty("recentEvents").EnumerateArray().Where(e => e.GetProperty("name").GetString() == "settings-changed").Select(e => e.GetProperty("detail").GetString()).ToList();
        Assert.Equal(["plugin-wide revision 1 by admin", "plugin-wide revision 2 by admin"], changes);
    }

    [Fact]
    public async Task ConcurrentWrites_LeaveThePluginConfiguredWithWhatTheStoreHolds()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var writes = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => PutAsync(host, $"{{\"greeting\":\"w{i}\"}}", null)));

        Assert.All(writes, w => Assert.Equal(HttpStatusCode.OK, w.StatusCode));
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        var seen = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");
        Assert.Equal(12, stored.GetProperty("revision").GetInt64());
        Assert.Equal(stored.GetProperty("settings").GetProperty("greeting").GetString(), seen.GetProperty("greeting").GetString());
    }

    private static async Task<HttpResponseMessage> PutAsync(TestHost host, string json, string? ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/admin/api/plugins/t/settings") { Content = Json(json) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await host.Admin.SendAsync(request);
    }

    [Fact]
    public async Task SettingsThePluginRejects_AreNotCommitted()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"kept"}"""))).EnsureSuccessStatusCode();

        var put = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"reject-me"}"""));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, put.StatusCode);
        var problem = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The plugin rejected the settings", problem.GetProperty("title").GetString());
        Assert.Equal("/greeting", problem.GetProperty("errors")[0].GetProperty("path").GetString());
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        Assert.Equal("kept", stored.GetProperty("settings").GetProperty("greeting").GetString());
    }

    [Fact]
    public async Task SecretSettings_AreSealedInTheStore_AndReachThePluginInClear_WhenWrittenAndAtItsNextStart()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        var first = await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"s3cr3t-at-rest","greeting":"hi"}"""))).EnsureSuccessStatusCode();

        (await host.Admin.PostAsync("/admin/api/plugins/t/restart", null)).EnsureSuccessStatusCode();
        await host.WaitForAsync("t", s => s.State == WorkerState.Ready && s.Pid != first.Pid, "a new worker");
        var seen = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");
        // The database and its write-ahead log, as a backup would copy them.
        var onDisk = string.Concat(Directory.GetFiles(Path.Combine(host.Root, "state"), "plugins.db*").Select(ReadShared));

        Assert.Equal("s3cr3t-at-rest", seen.GetProperty("apiKey").GetString());
        Assert.Equal("hi", seen.GetProperty("greeting").GetString());
        Assert.DoesNotContain("s3cr3t-at-rest", onDisk, StringComparison.Ordinal);
        Assert.Contains(GrpcPlugins.Host.Settings.SealedSecrets.Marker, onDisk, StringComparison.Ordinal);
        Assert.Contains("\"greeting\":\"hi\"", onDisk, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANestedSecret_DeclaredThroughADefinition_IsSealedInTheStore_MaskedInTheAdminApi_AndKeptWhenItsMaskIsWrittenBack()
    {
        var manifest = PluginFolders.Test("t");
        var schema = manifest["settingsSchema"]!.AsObject();
        schema["definitions"] = JsonNode.Parse("""{ "secret": { "type": "string", "writeOnly": true } }""");
        schema["properties"]!["connection"] = JsonNode.Parse("""{ "type": "object", "properties": { "host": { "type": "string" }, "password": { "$ref": "#/definitions/secret" } } }""");
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"connection":{"host":"db","password":"n3sted-s3cr3t"}}"""))).EnsureSuccessStatusCode();

        var shown = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        var revisions = await host.Admin.GetStringAsync("/admin/api/plugins/t/settings/revisions");
        var onDisk = string.Concat(Directory.GetFiles(Path.Combine(host.Root, "state"), "plugins.db*").Select(ReadShared));
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"connection":{"host":"db2","password":"********"}}"""))).EnsureSuccessStatusCode();
        var seen = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");

        Assert.Equal("********", shown.GetProperty("settings").GetProperty("connection").GetProperty("password").GetString());
        Assert.Equal("db", shown.GetProperty("settings").GetProperty("connection").GetProperty("host").GetString());
        Assert.DoesNotContain("n3sted-s3cr3t", revisions, StringComparison.Ordinal);
        Assert.DoesNotContain("n3sted-s3cr3t", onDisk, StringComparison.Ordinal);
        Assert.Contains(GrpcPlugins.Host.Settings.SealedSecrets.Marker, onDisk, StringComparison.Ordinal);
        Assert.Equal("n3sted-s3cr3t", seen.GetProperty("connection").GetProperty("password").GetString());
        Assert.Equal("db2", seen.GetProperty("connection").GetProperty("host").GetString());
    }

    [Fact]
    public async Task ASchemaOnlyDescribePublishes_StillMasksAndSealsItsSecrets_AndValidatesWrites_WhileThePluginIsStopped()
    {
        // The test plugin publishes the same schema in Describe, apiKey writeOnly in it.
        var manifest = PluginFolders.Test("t");
        manifest.Remove("settingsSchema");
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"d3scribed-s3cr3t","greeting":"hi"}"""))).EnsureSuccessStatusCode();

        (await host.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("t", WorkerState.Stopped);
        var shown = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        var invalid = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"limit":0}"""));
        var onDisk = string.Concat(Directory.GetFiles(Path.Combine(host.Root, "state"), "plugins.db*").Select(ReadShared));

        Assert.Equal("********", shown.GetProperty("settings").GetProperty("apiKey").GetString());
        Assert.True(shown.GetProperty("schema").GetProperty("properties").GetProperty("apiKey").GetProperty("writeOnly").GetBoolean());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.DoesNotContain("d3scribed-s3cr3t", onDisk, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASchemaOnlyDescribePublishes_IsKeptAcrossAHostRestart_SoANeverStartedPluginsSecretsStayMaskedAndSealed()
    {
        var manifest = PluginFolders.Test("t");
        manifest.Remove("settingsSchema");
        await using var first = await TestHost.StartAsync(manifest);
        await first.WaitForStateAsync("t", WorkerState.Ready);
        (await first.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"d3scribed-s3cr3t","greeting":"hi"}"""))).EnsureSuccessStatusCode();
        (await first.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();
        await first.StopAsync();

        // The next host on the same state directory: the plugin stays disabled, so no worker of it answers Describe.
        await using var second = await TestHost.StartAsync([], configure: null, root: first.Root);
        Assert.Equal(WorkerState.Stopped, second.Catalog.Find("t")!.Supervisor!.State);
        var shown = await second.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        var revisions = await second.Admin.GetStringAsync("/admin/api/plugins/t/settings/revisions");
        var invalid = await second.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"limit":0}"""));
        (await second.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"an0ther-s3cr3t","greeting":"hi"}"""))).EnsureSuccessStatusCode();
        var onDisk = string.Concat(Directory.GetFiles(Path.Combine(second.Root, "state"), "plugins.db*").Select(ReadShared));

        Assert.Equal("********", shown.GetProperty("settings").GetProperty("apiKey").GetString());
        Assert.True(shown.GetProperty("schema").GetProperty("properties").GetProperty("apiKey").GetProperty("writeOnly").GetBoolean());
        Assert.DoesNotContain("d3scribed-s3cr3t", revisions, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.DoesNotContain("an0ther-s3cr3t", onDisk, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AValueStoredBeforeItsFieldBecameSecret_IsSealedInTheStore_OnceTheVersionThatSaysSoStarts()
    {
        var before = PluginFolders.Test("t");
        before["settingsSchema"]!["properties"]!["apiKey"]!.AsObject().Remove("writeOnly");
        await using var first = await TestHost.StartAsync(before);
        await first.WaitForStateAsync("t", WorkerState.Ready);
        (await first.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"f0rmerly-pl4in","greeting":"hi"}"""))).EnsureSuccessStatusCode();
        (await first.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", Json("""{"apiKey":"f0rmerly-pl4in"}"""))).EnsureSuccessStatusCode();
        (await first.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"f0rmerly-pl4in","greeting":"hello"}"""))).EnsureSuccessStatusCode();
        await first.StopAsync();

        // Its next version's manifest marks the field secret.
        var after = PluginFolders.Test("t", "normal", "--version", "1.1.0");
        after["version"] = "1.1.0";
        PluginFolders.Write(first.PluginsDirectory, after);
        await using var second = await TestHost.StartAsync([], configure: null, root: first.Root);
        await second.WaitForStateAsync("t", WorkerState.Ready);
        await ReplicaTests.Until(async () => (await second.Admin.GetStringAsync("/admin/api/plugins/t")).Contains("secrets-sealed", StringComparison.Ordinal), "the sealing's event");
        var rows = await RawSettingsRowsAsync(second, "t");
        var seen = await second.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");
        var revisions = await second.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings/revisions");

        // Two scopes' current settings and three kept revisions, each sealed where it lies.
        Assert.Equal(5, rows.Count);
        Assert.All(rows, row => Assert.DoesNotContain("f0rmerly-pl4in", row, StringComparison.Ordinal));
        Assert.All(rows, row => Assert.Contains(GrpcPlugins.Host.Settings.SealedSecrets.Marker, row, StringComparison.Ordinal));
        Assert.Equal("f0rmerly-pl4in", seen.GetProperty("apiKey").GetString());
        Assert.Equal([2L, 1L], revisions.GetProperty("revisions").EnumerateArray().Select(r => r.GetProperty("revision").GetInt64()));
        Assert.Contains("5 stored settings", await second.Admin.GetStringAsync("/admin/api/plugins/t"), StringComparison.Ordinal);
    }

    private static async Task<List<string>> RawSettingsRowsAsync(TestHost host, string pluginId)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(host.Root, "state", "plugins.db")};Mode=ReadOnly;Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT json FROM settings WHERE plugin_id = $p UNION ALL SELECT json FROM settings_history WHERE plugin_id = $p";
        command.Parameters.AddWithValue("$p", pluginId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static string ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var copy = new MemoryStream();
        file.CopyTo(copy);
        return System.Text.Encoding.Latin1.GetString(copy.ToArray());
    }

    [Fact]
    public async Task SecretSettings_AreMaskedInTheAdminApi_ButReachThePlugin()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"s3cr3t","greeting":"hi"}"""))).EnsureSuccessStatusCode();

        var shown = await host.Admin.GetStringAsync("/admin/api/plugins/t/settings");
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"********","greeting":"changed"}"""))).EnsureSuccessStatusCode();
        var seen = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");

        Assert.DoesNotContain("s3cr3t", shown, StringComparison.Ordinal);
        Assert.Contains("********", shown, StringComparison.Ordinal);
        Assert.Equal("s3cr3t", seen.GetProperty("apiKey").GetString());
        Assert.Equal("changed", seen.GetProperty("greeting").GetString());
    }

    [Fact]
    public async Task PluginWithoutTheWritePermission_CannotWriteItsSettings()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var response = await host.Admin.PostAsync("/plugins/t/settings", Json("""{"greeting":"mine"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("PermissionDenied", body, StringComparison.Ordinal);
        Assert.Contains("'settings.write'", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PluginWithTheWritePermission_WritesItsOwnSettings_ValidatedAgainstItsSchema()
    {
        var manifest = PluginFolders.Test("t");
        manifest["permissions"] = new JsonArray("settings.read", "settings.write");
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var ok = await host.Admin.PostAsync("/plugins/t/settings", Json("""{"greeting":"mine"}"""));
        var invalid = await host.Admin.PostAsync("/plugins/t/settings", Json("""{"limit":-1}"""));

        Assert.Equal("revision 1", await ok.Content.ReadAsStringAsync());
        Assert.StartsWith("InvalidArgument", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("mine", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings")).GetProperty("settings").GetProperty("greeting").GetString());
    }

    [Fact]
    public async Task APlugin_SeesOnlyItsOwnSettings()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("alpha"), PluginFolders.Test("beta"));
        await Task.WhenAll(host.WaitForStateAsync("alpha", WorkerState.Ready), host.WaitForStateAsync("beta", WorkerState.Ready));
        (await host.Admin.PutAsync("/admin/api/plugins/alpha/settings", Json("""{"greeting":"alpha only"}"""))).EnsureSuccessStatusCode();

        var beta = await host.Admin.GetStringAsync("/plugins/beta/settings");
        var alpha = await host.Admin.GetStringAsync("/plugins/alpha/settings");

        Assert.Equal("{}", beta);
        Assert.Contains("alpha only", alpha, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APluginHoldingAnotherWorkersToken_ReadFromItsEnvironment_IsRefused_TheTokensOwnerStillServed()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("thief"), PluginFolders.Test("victim"));
        await host.WaitForStateAsync("thief", WorkerState.Ready);
        var victim = await host.WaitForStateAsync("victim", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/victim/settings", Json("""{"apiKey":"v1ctim-s3cr3t"}"""))).EnsureSuccessStatusCode();

        var stolen = await (await host.Admin.PostAsync($"/plugins/thief/impersonate?pid={victim.Pid}", null)).Content.ReadAsStringAsync();
        var own = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/victim/settings");

        Assert.DoesNotContain("v1ctim-s3cr3t", stolen, StringComparison.Ordinal);
        // Nor may it call the worker itself with that token: the worker takes only the host's connections.
        Assert.StartsWith("worker: refused; Unauthenticated: ", stolen, StringComparison.Ordinal);
        Assert.Contains("the token was given to the worker of plugin 'victim'", stolen, StringComparison.Ordinal);
        Assert.Equal("v1ctim-s3cr3t", own.GetProperty("apiKey").GetString());
        var victimEvents = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/victim")).GetProperty("recentEvents").EnumerateArray();
        var thiefEvents = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/thief")).GetProperty("recentEvents").EnumerateArray();
        Assert.Contains(victimEvents, e => e.GetProperty("name").GetString() == "token-used-elsewhere" && e.GetProperty("detail").GetString()!.Contains("plugin 'thief'", StringComparison.Ordinal));
        Assert.Contains(thiefEvents, e => e.GetProperty("name").GetString() == "used-another-token");
    }

    [Fact]
    public async Task PutSettings_ToAPluginThatHangsOrDiesInConfigure_AnswersWithTheReason_AndSavesNothing()
    {
        var manifest = PluginFolders.Test("t");
        manifest["limits"] = new JsonObject { ["startTimeoutSeconds"] = 3 };
        await using var host = await TestHost.StartAsync(manifest);
        host.ExpectErrors = true; // the worker dies in Configure on purpose
        var first = await host.WaitForStateAsync("t", WorkerState.Ready);

        var hung = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"hang-me"}"""));
        var hungProblem = await hung.Content.ReadFromJsonAsync<JsonElement>();
        var died = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"exit-me"}"""));
        var diedProblem = await died.Content.ReadFromJsonAsync<JsonElement>();
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        // Ready again means a new worker: the dead one may still show as Ready until its exit is seen.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (host.Supervisor("t").Snapshot is var s && (s.State != WorkerState.Ready || s.Pid == first.Pid) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var fine = await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"fine"}"""));

        Assert.Equal(HttpStatusCode.GatewayTimeout, hung.StatusCode);
        Assert.Equal("The plugin did not answer", hungProblem.GetProperty("title").GetString());
        Assert.Contains("did not answer in time (no answer within 3000 ms)", hungProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadGateway, died.StatusCode);
        Assert.Contains("crashed", diedProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("Nothing was saved", diedProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(" Crashed: ", view.GetProperty("lastCallError").GetString(), StringComparison.Ordinal);
        Assert.True(view.GetProperty("callFailures").GetInt64() >= 2);
        fine.EnsureSuccessStatusCode();
        Assert.Equal(1, (await fine.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task TenantSettings_AreKeptApart_AndAllReachTheWorkerAtStart()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        var first = await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", Json("""{"greeting":"acme's"}"""))).EnsureSuccessStatusCode();
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"everyone's"}"""))).EnsureSuccessStatusCode();

        (await host.Admin.PostAsync("/admin/api/plugins/t/restart", null)).EnsureSuccessStatusCode();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (host.Supervisor("t").Snapshot is var s && (s.State != WorkerState.Ready || s.Pid == first.Pid) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var configured = await host.Admin.GetFromJsonAsync<string[]>("/plugins/t/configured");
        var acme = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings?tenant=acme");
        var everyone = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
        Assert.Equal(["", "acme"], configured!);
        Assert.Equal("acme's", acme.GetProperty("settings").GetProperty("greeting").GetString());
        Assert.Equal("everyone's", everyone.GetProperty("settings").GetProperty("greeting").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task AdminApi_WithoutTheRightKey_IsUnauthorized(string? key)
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/api/plugins");
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("X-Api-Key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminApi_ListsPluginsWithTheirStateAndLimits_AndRefusedOnesWithTheirReason()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("good"), new JsonObject { ["id"] = "Bad", ["version"] = "x" });
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
        await host.WaitForStateAsync("good", WorkerState.Ready);

        var list = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins");
        var detail = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/good");

        var good = list.EnumerateArray().Single(p => p.GetProperty("id").GetString() == "good");
        Assert.Equal("Ready", good.GetProperty("state").GetString());
        Assert.Equal(512L * 1024 * 1024, good.GetProperty("memoryLimitBytes").GetInt64());
        Assert.True(good.GetProperty("memoryBytes").GetInt64() > 0);
        var start = good.GetProperty("start");
        double Ms(string step) => start.GetProperty(step).GetDouble();
        Assert.True(Ms("handshakeMs") > 0 && Ms("handshakeMs") <= Ms("healthyMs") && Ms("healthyMs") <= Ms("describedMs") && Ms("describedMs") <= Ms("readyMs"), start.ToString());
        var bad = list.EnumerateArray().Single(p => p.GetProperty("id").GetString() == "Bad");
        Assert.Equal("Refused", bad.GetProperty("state").GetString());
        Assert.Contains("$.id", bad.GetProperty("refusal")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Array, detail.GetProperty("recentLogLines").ValueKind);
    }

    [Fact]
    public async Task DisableAndEnable_StopAndStartTheWorker()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        var first = await host.WaitForStateAsync("t", WorkerState.Ready);

        (await host.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();
        Assert.Equal(WorkerState.Stopped, host.Supervisor("t").Snapshot.State);
        Assert.False(Liveness.IsAlive(first.Pid!.Value));
        var skipped = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));
        Assert.Empty(skipped.Skipped);

        (await host.Admin.PostAsync("/admin/api/plugins/t/enable", null)).EnsureSuccessStatusCode();
        var second = await host.WaitForStateAsync("t", WorkerState.Ready);
        Assert.NotEqual(first.Pid, second.Pid);
    }

    [Fact]
    public async Task AcknowledgedWrites_DisabledState_AndTenantScope_SurviveKill9OfTheHost()
    {
        var root = Directory.CreateTempSubdirectory("gpt-durable-").FullName;
        try
        {
            PluginFolders.Write(Path.Combine(root, "plugins"), PluginFolders.Hello());
            PluginFolders.Write(Path.Combine(root, "plugins"), PluginFolders.Test("t"));
            await using (var host = await HostProcess.StartAsync(root))
            {
                using var admin = host.AdminClient();
                await HostProcess.WaitForStateAsync(admin, "t", "Ready");
                (await admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"greeting":"durable"}"""))).EnsureSuccessStatusCode();
                (await admin.PostAsync("/admin/api/plugins/hello/disable", null)).EnsureSuccessStatusCode();
                (await admin.PutAsync("/admin/api/plugins/t/tenant-scope", Json("""{"except":["initech"]}"""))).EnsureSuccessStatusCode();
                await host.KillAsync();
            }

            await using (var again = await HostProcess.StartAsync(root))
            {
                using var admin = again.AdminClient();
                var settings = await admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");
                Assert.Equal("durable", settings.GetProperty("settings").GetProperty("greeting").GetString());
                await HostProcess.WaitForStateAsync(admin, "t", "Ready");
                Assert.Equal("Stopped", (await admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/hello")).GetProperty("state").GetString());
                Assert.Equal("all but initech", (await admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/tenant-scope")).GetProperty("takes").GetString());
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task ASecretWhoseKeyRingIsLost_ReadsAsMissing_ThePluginStillStarts_AndAnAdminSetsItAgain()
    {
        var root = Directory.CreateTempSubdirectory("gpt-keys-").FullName;
        try
        {
            PluginFolders.Write(Path.Combine(root, "plugins"), PluginFolders.Test("t"));
            await using (var host = await HostProcess.StartAsync(root))
            {
                using var admin = host.AdminClient();
                await HostProcess.WaitForStateAsync(admin, "t", "Ready");
                (await admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"sealed-then-lost","greeting":"kept"}"""))).EnsureSuccessStatusCode();
            }

            // A restore that brought the database back without the host's key ring.
            Directory.Delete(Path.Combine(root, "state", "keys"), recursive: true);
            await using (var again = await HostProcess.StartAsync(root))
            {
                using var admin = again.AdminClient();
                await HostProcess.WaitForStateAsync(admin, "t", "Ready");
                var configured = await admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");
                (await admin.PutAsync("/admin/api/plugins/t/settings", Json("""{"apiKey":"set-again","greeting":"kept"}"""))).EnsureSuccessStatusCode();
                var reconfigured = await admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured");

                Assert.False(configured.TryGetProperty("apiKey", out _));
                Assert.Equal("kept", configured.GetProperty("greeting").GetString());
                Assert.Equal("set-again", reconfigured.GetProperty("apiKey").GetString());
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    internal static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
