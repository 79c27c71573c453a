using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>The PostgreSQL store against SQLite, two replicas following each other, and a store import.</summary>
internal static class ReplicasSection
{
    // A settings write on one store and the other, taken in turn, one host each: an embedded SQLite
    // file (full sync) against a PostgreSQL server on this machine (its defaults: a commit waits for
    // its WAL flush), reached over its Unix socket; then, with a second replica on that server, how
    // long a write on one takes to reach the plugin on the other (from the write sent to the other's
    // plugin answering with it, polled over HTTP every 0.2 ms).
    public static async Task RunAsync(Report report)
    {
        using var server = GrpcPlugins.Functional.Tests.Infrastructure.PostgresServer.Durable();
        var database = server.CreateDatabase();
        var bundleWork = Directory.CreateTempSubdirectory("gpb-bundles-").FullName;
        using var publisher = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var trust = Directory.CreateDirectory(Path.Combine(bundleWork, "trust")).FullName;
        await File.WriteAllTextAsync(Path.Combine(trust, "publisher.pem"), publisher.ExportSubjectPublicKeyInfoPem());
        try
        {
            await ReplicasInAsync(report, database, bundleWork, trust, publisher);
            await ImportAsync(report, server);
        }
        finally
        {
            Directory.Delete(bundleWork, recursive: true);
        }
    }

    // A single host's store moved into PostgreSQL (BundleTool import-store): a long-lived host's
    // state, the audit trail at its default bound (100,000 entries) and 2,000 tenants' settings with
    // the 10 revisions each that are kept, into an empty database of the same durable server.
    private static async Task ImportAsync(Report report, GrpcPlugins.Functional.Tests.Infrastructure.PostgresServer server)
    {
        const int audit = 100_000, tenants = 2_000, revisions = 10;
        var state = Directory.CreateTempSubdirectory("gpb-import-").FullName;
        try
        {
            var secrets = GrpcPlugins.Host.Settings.SealedSecrets.Create(state, Microsoft.Extensions.Logging.Abstractions.NullLogger<GrpcPlugins.Host.Settings.SealedSecrets>.Instance);
            var file = Path.Combine(state, "plugins.db");
            // The store makes its tables; the rows go in directly, in one transaction, as a year of use would have left them.
            await new GrpcPlugins.Host.Settings.SqlitePluginStore(file, TimeProvider.System, secrets).PutSettingsAsync("p", "", "{}", null, CancellationToken.None);
            await using (var sqlite = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
            {
                await sqlite.OpenAsync();
                await using var transaction = sqlite.BeginTransaction();
                var at = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
                await using (var insert = sqlite.CreateCommand())
                {
                    insert.CommandText = "INSERT INTO audit (at, actor, remote, action, plugin_id, tenant_id, status, detail, replica) VALUES ($at, 'admin', '127.0.0.1', 'settings.put', 'p', $t, 200, 'revision 7 of tenant acme-0042', '')";
                    insert.Parameters.AddWithValue("$at", at);
                    var tenant = insert.Parameters.AddWithValue("$t", "");
                    for (var i = 0; i < audit; i++)
                    {
                        tenant.Value = $"tenant-{i % tenants}";
                        await insert.ExecuteNonQueryAsync();
                    }
                }

                await using (var insert = sqlite.CreateCommand())
                {
                    insert.CommandText = "INSERT OR REPLACE INTO settings (plugin_id, tenant_id, json, revision, updated_at) VALUES ('p', $t, $j, $r, $at); INSERT INTO settings_history (plugin_id, tenant_id, revision, json, updated_at) VALUES ('p', $t, $r, $j, $at)";
                    insert.Parameters.AddWithValue("$at", at);
                    var tenant = insert.Parameters.AddWithValue("$t", "");
                    var json = insert.Parameters.AddWithValue("$j", "");
                    var revision = insert.Parameters.AddWithValue("$r", 0L);
                    for (var t = 0; t < tenants; t++)
                    {
                        for (var r = 1; r <= revisions; r++)
                        {
                            (tenant.Value, json.Value, revision.Value) = ($"tenant-{t}", $$"""{"greeting":"hello {{t}}","limit":{{r}}}""", (long)r);
                            await insert.ExecuteNonQueryAsync();
                        }
                    }
                }

                await transaction.CommitAsync();
            }

            var database = server.CreateDatabase();
            var started = Stopwatch.GetTimestamp();
            var counts = await GrpcPlugins.Host.Replicas.SqliteImport.ImportAsync(state, database, CancellationToken.None);
            var took = Stopwatch.GetElapsedTime(started);
            var rows = counts.Settings + counts.Revisions + counts.AuditEntries + counts.Installs + counts.EnabledStates + counts.TenantScopes + counts.Keys + counts.DescribedSchemas;
            report.Row($"import-store of a long-lived host into PostgreSQL: {counts.AuditEntries} audit entries, {counts.Settings} settings with {counts.Revisions} revisions", $"{took.TotalSeconds:0.00} s ({rows / took.TotalSeconds:0} rows/s)");
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    private static async Task ReplicasInAsync(Report report, string database, string bundleWork, string trust, System.Security.Cryptography.ECDsa publisher)
    {
        var manifest = BenchHost.Test("t", "normal");
        manifest["permissions"] = new JsonArray("settings.read");
        manifest["settingsSchema"] = JsonNode.Parse("""{ "type": "object", "properties": { "greeting": { "type": "string", "maxLength": 40 } }, "additionalProperties": false }""");
        manifest["routes"] = BenchHost.AnonymousRoutes(("GET", "/last-configured"));
        await using var sqlite = await BenchHost.StartAsync([manifest], o => o.AdminApiKey = BenchHost.AdminKey);
        await using var one = await BenchHost.StartAsync([manifest.DeepClone().AsObject()], o => { o.AdminApiKey = BenchHost.AdminKey; o.Store.PostgreSqlConnectionString = database; o.TrustedKeysDirectory = trust; });
        await Task.WhenAll(sqlite.WaitReadyAsync("t"), one.WaitReadyAsync("t"));
        using var onSqlite = sqlite.AdminClient();
        using var onOne = one.AdminClient();

        var n = 0;
        async Task WriteAsync(HttpClient http, string greeting)
        {
            using var body = new StringContent($$"""{ "greeting": "{{greeting}}" }""", Encoding.UTF8, "application/json");
            using var response = await http.PutAsync("/admin/api/plugins/t/settings", body);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"settings write failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        Task Next(HttpClient http) => WriteAsync(http, $"hello {Interlocked.Increment(ref n)}");
        await Load.InFlightAsync(() => Next(onSqlite), 1, TimeSpan.FromSeconds(2));
        await Load.InFlightAsync(() => Next(onOne), 1, TimeSpan.FromSeconds(2));
        var rounds = await InTurnAsync(async () => Stats.Percentile(await Load.LatenciesAsync(() => Next(onSqlite), 100), 50), async () => Stats.Percentile(await Load.LatenciesAsync(() => Next(onOne), 100), 50), 8);
        report.Row("settings write through the admin API, SQLite / PostgreSQL store: p50 (medians of 8 rounds in turn); ratio", $"{Stats.Median([.. rounds.Select(r => r.A)]):0} / {Stats.Median([.. rounds.Select(r => r.B)]):0} µs; {Spread([.. rounds.Select(r => r.B / r.A)])}");

        // The second replica only now: the comparison above is of the stores alone.
        await using var other = await BenchHost.StartAsync([manifest.DeepClone().AsObject()], o => { o.AdminApiKey = BenchHost.AdminKey; o.Store.PostgreSqlConnectionString = database; o.TrustedKeysDirectory = trust; });
        await other.WaitReadyAsync("t");
        using var onOther = new HttpClient { BaseAddress = other.Address };
        var written = new List<double>();
        var reached = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var greeting = $"crossing {i}";
            var started = Stopwatch.GetTimestamp();
            await WriteAsync(onOne, greeting);
            written.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            while (!(await onOther.GetStringAsync("/plugins/t/last-configured")).Contains(greeting, StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromMicroseconds(200));
            }

            reached.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        report.Row("a write on one replica: committed there / in the plugin on the other replica: p50 / p99", $"{Stats.Percentile(written, 50):0} µs / {Stats.Percentile(written, 99):0} µs; {Stats.Percentile(reached, 50):0} µs / {Stats.Percentile(reached, 99):0} µs");

        // An admin's install on one replica, followed by the other: from the install's answer there
        // to the plugin answering on the other (the bundle read from the store in 1 MiB rows, hashed,
        // checked against that replica's trusted keys, extracted, started). The test plugin alone, and
        // with 64 MiB of incompressible bytes standing in for a vendor's native libraries.
        foreach (var padding in new[] { 0, 64 })
        {
            var id = $"follow{padding}";
            var folder = Directory.CreateDirectory(Path.Combine(bundleWork, id)).FullName;
            var plugin = Path.GetDirectoryName(BenchHost.Output("tests/TestPlugin", "TestPlugin.dll"))!;
            foreach (var file in Directory.GetFiles(plugin, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(folder, Path.GetRelativePath(plugin, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            if (padding > 0)
            {
                Directory.CreateDirectory(Path.Combine(folder, "native"));
                await File.WriteAllBytesAsync(Path.Combine(folder, "native", "libvendor.so"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(padding << 20));
            }

            var followManifest = new JsonObject
            {
                ["id"] = id,
                ["version"] = "1.0.0",
                ["command"] = "dotnet",
                ["args"] = new JsonArray("TestPlugin.dll", "normal"),
                ["hooks"] = new JsonArray("request"),
                ["routes"] = BenchHost.AnonymousRoutes(("GET", "/whoami")),
            };
            await File.WriteAllTextAsync(Path.Combine(folder, "plugin.json"), followManifest.ToJsonString());
            var bundle = Path.Combine(bundleWork, id + ".bundle");
            GrpcPlugins.Host.Bundles.BundleArchive.Pack(folder, id, "1.0.0", publisher, bundle);
            var started = Stopwatch.GetTimestamp();
            using var staged = await onOne.PostAsync("/admin/api/bundles", new StreamContent(File.OpenRead(bundle)));
            var address = JsonNode.Parse(await staged.Content.ReadAsStringAsync())!["address"]!.GetValue<string>();
            using var installed = await onOne.PostAsync($"/admin/api/bundles/{address}/install", null);
            if (!installed.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"install failed: {(int)installed.StatusCode} {await installed.Content.ReadAsStringAsync()}");
            }

            var installedThere = Stopwatch.GetElapsedTime(started);
            // Both polled at once: the first replica's own start to an answer is the yardstick for the other's.
            async Task<TimeSpan> AnsweringAsync(HttpClient http)
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (!(await http.GetAsync($"/plugins/{id}/whoami")).IsSuccessStatusCode)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException($"{id} did not answer within 60 s of its install");
                    }

                    await Task.Delay(2);
                }

                return Stopwatch.GetElapsedTime(started) - installedThere;
            }

            var answering = await Task.WhenAll(AnsweringAsync(onOne), AnsweringAsync(onOther));
            var fetch = new List<double>();
            using (var source = Npgsql.NpgsqlDataSource.Create(database))
            {
                var shared = new GrpcPlugins.Host.Replicas.PostgresSharedBundles(source, GrpcPlugins.Host.Replicas.ReplicaIdentity.New("bench"), TimeProvider.System);
                for (var i = 0; i < 5; i++)
                {
                    var read = Stopwatch.GetTimestamp();
                    await shared.FetchAsync(address, Path.Combine(bundleWork, "fetched"), CancellationToken.None);
                    fetch.Add(Stopwatch.GetElapsedTime(read).TotalMilliseconds);
                }
            }

            var mib = new FileInfo(bundle).Length / (1024.0 * 1024);
            report.Row($"an install followed by the other replica, {mib:0.0} MiB bundle: upload and install on one / then answering there / answering on the other; the store read alone (median of 5)", $"{installedThere.TotalMilliseconds:0} ms / {answering[0].TotalMilliseconds:0} ms / {answering[1].TotalMilliseconds:0} ms; {Stats.Median(fetch):0} ms ({mib / (Stats.Median(fetch) / 1000):0} MiB/s)");
        }
    }
}
