using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using GrpcPlugins.Benchmarks;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Supervision;
using GrpcPlugins.Supervisor.Workers;

// make bench: every figure from one run on this machine, printed as one table.
var rows = new List<(string What, string Value)>();
void Row(string what, string value)
{
    rows.Add((what, value));
    Console.WriteLine($"{what,-62} {value}");
}

// `make bench ONLY=routes,cold` runs some sections (hooks, routes, endpoint, ab, spinner, transfer, attached, websocket,
// settings, replicas, restart, cold, hoststart, soak, polyglot, memory, chain, many); every section runs by default.
if (args is [PingPong.ChildCommand, var pingSocket])
{
    PingPong.RunEcho(pingSocket);
    return;
}

if (args is [YarpBaseline.BackendCommand, var backendSocket, .. var backendProtocol])
{
    await YarpBaseline.RunBackendAsync(backendSocket, backendProtocol is [YarpBaseline.Http2Argument]);
    return;
}

var only = args.Length > 0 ? args[0].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
bool Runs(string section) => only.Length == 0 || only.Contains(section);

var workerEnvironment = string.Join(";", BenchHost.ExtraWorkerEnvironment().Select(p => $"{p.Key}={p.Value}"));
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; workers' extra environment: {(workerEnvironment.Length > 0 ? workerEnvironment : "none")}");

if (Runs("hooks") || Runs("routes") || Runs("endpoint"))
{
    await using var host = await BenchHost.StartAsync([BenchHost.Hello("hello")]);
    await host.WaitReadyAsync("hello");
    if (Runs("hooks"))
    {
        await HooksAsync(host);
    }

    if (Runs("routes"))
    {
        await RoutesAsync(host);
    }

    if (Runs("endpoint"))
    {
        await EndpointHooksAsync(host);
    }

    var idle = ProcessGroups.ReadRss(host.Supervisor("hello").Snapshot.Pid!.Value);
    Row("worker RSS after the load above (JIT, PluginWorker + hello)", $"{MiB(idle)} MiB");
}

if (Runs("ab"))
{
    await WorkerSettingsAbAsync();
}

if (Runs("spinner"))
{
    await SpinnerAsync();
}

// Two hosts in one run, B's workers started with BENCH_AB_WORKER_ENV ("NAME=value;...") and
// BENCH_AB_WORKER_NICE, taken in turn: a worker setting judged against the default under the
// same drift of this noisy machine, which two runs minutes apart cannot do.
async Task WorkerSettingsAbAsync()
{
    var bEnvironment = BenchHost.EnvironmentPairs("BENCH_AB_WORKER_ENV").ToList();
    int? bNice = int.TryParse(Environment.GetEnvironmentVariable("BENCH_AB_WORKER_NICE"), out var nice) ? nice : null;
    Row("A/B: B's workers", $"environment {(bEnvironment.Count > 0 ? string.Join(";", bEnvironment.Select(p => $"{p.Key}={p.Value}")) : "as A's")}, niceness {bNice?.ToString() ?? "as A's"}");
    await using var a = await BenchHost.StartAsync([BenchHost.Hello("hello")]);
    await using var b = await BenchHost.StartAsync([BenchHost.Hello("hello")], o =>
    {
        // Only what B sets differs: BENCH_WORKER_ENV and BENCH_WORKER_NICE apply to both hosts.
        o.WorkerNice = bNice ?? o.WorkerNice;
        foreach (var (name, value) in bEnvironment)
        {
            o.WorkerEnvironment[name] = value;
        }
    });
    await a.WaitReadyAsync("hello");
    await b.WaitReadyAsync("hello");
    using var httpA = new HttpClient { BaseAddress = a.Address };
    using var httpB = new HttpClient { BaseAddress = b.Address };
    await WarmRoutesAsync(httpA, "/plugins/hello/ping");
    await WarmRoutesAsync(httpB, "/plugins/hello/ping");

    var routes = await AlternatingAsync(() => RouteAsync(httpB, "/plugins/hello/ping"), () => RouteAsync(httpA, "/plugins/hello/ping"));
    Row("A/B: route GET /plugins/hello/ping, B / A (8 rounds in turn): rate at 16 in flight; p50 at 1", $"{Spread([.. routes.Select(r => r.A.Rate / r.B.Rate)])}; {Spread([.. routes.Select(r => r.A.P50 / r.B.P50)])}");

    var body = Encoding.UTF8.GetBytes("0123456789abcdef");
    var hooked = await AlternatingAsync(() => PostAsync(httpB, BenchHost.HookedEchoPath, body), () => PostAsync(httpA, BenchHost.HookedEchoPath, body));
    Row("A/B: endpoint through two hook points, B / A (8 rounds in turn): rate at 16 in flight; p50 at 1", $"{Spread([.. hooked.Select(r => r.A.Rate / r.B.Rate)])}; {Spread([.. hooked.Select(r => r.A.P50 / r.B.P50)])}");

    // The sporadic call: every thread on both sides asleep, as in a gateway with light traffic.
    var request = new GrpcPlugins.Protocol.V1.HookRequest { Point = "request", Body = Google.Protobuf.ByteString.CopyFrom(body) };
    Task<List<double>> AfterPauseAsync(BenchHost host) =>
        Load.LatenciesAsync(async () => await host.Supervisor("hello").ReadyWorker!.Connection.Plugin.InvokeHookAsync(request), 300, TimeSpan.FromMilliseconds(1));
    var paused = await InTurnAsync(async () => Stats.Median(await AfterPauseAsync(b)), async () => Stats.Median(await AfterPauseAsync(a)), 6);
    Row("A/B: hook call after a 1 ms pause, p50 (medians of 6 rounds in turn): A / B; B / A", $"{Stats.Median([.. paused.Select(r => r.B)]):0} / {Stats.Median([.. paused.Select(r => r.A)]):0} µs; {Spread([.. paused.Select(r => r.A / r.B)])}");
}

// A plugin stuck in a loop on two threads (the test plugin's spin mode), disabled and enabled
// through the admin API in turn with windows of the host's own endpoint: what a runaway plugin
// takes from its host at the default niceness and at PluginHost:WorkerNice 10.
async Task SpinnerAsync()
{
    foreach (var nice in new[] { 0, 10 })
    {
        await using var host = await BenchHost.StartAsync([BenchHost.Test("spin", "spin")], o =>
        {
            o.AdminApiKey = BenchHost.AdminKey;
            o.WorkerNice = nice;
        });
        await host.WaitReadyAsync("spin");
        using var admin = host.AdminClient();
        using var http = new HttpClient { BaseAddress = host.Address };
        var body = Encoding.UTF8.GetBytes("0123456789abcdef");
        Task Post() => PostAsync(http, BenchHost.EchoPath, body);
        async Task<double> WindowAsync(bool spinning)
        {
            (await admin.PostAsync($"/admin/api/plugins/spin/{(spinning ? "enable" : "disable")}", null)).EnsureSuccessStatusCode();
            if (spinning)
            {
                await host.WaitReadyAsync("spin");
            }
            else
            {
                while (host.Supervisor("spin").Snapshot.Pid is not null)
                {
                    await Task.Delay(10);
                }
            }

            await Load.InFlightAsync(Post, 16, TimeSpan.FromSeconds(1));
            return await Load.InFlightAsync(Post, 16, TimeSpan.FromSeconds(3));
        }

        await Load.InFlightAsync(Post, 4, TimeSpan.FromSeconds(4));
        var rounds = await InTurnAsync(() => WindowAsync(spinning: true), () => WindowAsync(spinning: false), 6);
        Row($"the host's own endpoint (POST 16 B, 16 in flight) beside a plugin spinning two threads, WorkerNice {nice}: with / without it (medians of 6 windows in turn); ratio", $"{Stats.Median([.. rounds.Select(r => r.A)]):0} / {Stats.Median([.. rounds.Select(r => r.B)]):0} req/s; {Spread([.. rounds.Select(r => r.A / r.B)])}");
    }
}

if (Runs("transfer"))
{
    await TransfersAsync();
}

if (Runs("attached"))
{
    await AttachedAsync();
}

if (Runs("websocket"))
{
    await WebSocketsAsync();
}

// Hello's /greet WebSocket through the host against the same handler behind YARP (its backend
// in a process of its own, as a plugin is): a message's round trip once the socket is open,
// one socket at a time and sixteen at once, in windows taken in turn.
async Task WebSocketsAsync()
{
    // Compression allowed: hello asks for it, and only the sockets that offer it (the last rows') get it.
    await using var host = await BenchHost.StartAsync([BenchHost.Hello("hello")], o => o.AllowWebSocketCompression = true);
    await host.WaitReadyAsync("hello");
    await using var yarp = await YarpBaseline.StartAsync(backendInOwnProcess: true);
    var ourUri = new UriBuilder(host.Address) { Scheme = "ws", Path = "/plugins/hello/greet" }.Uri;
    var yarpUri = new UriBuilder(yarp.Address) { Scheme = "ws", Path = "/yarp/greet" }.Uri;
    await using var ours = await WebSocketRoundTrips.ConnectAsync(ourUri, 16);
    await using var theirs = await WebSocketRoundTrips.ConnectAsync(yarpUri, 16);
    foreach (var trips in new[] { ours, theirs })
    {
        await Load.InFlightAsync(trips.RoundTripAsync, 16, TimeSpan.FromSeconds(5));
    }

    var ourLatencies = await Load.LatenciesAsync(ours.RoundTripAsync, 3000);
    var yarpLatencies = await Load.LatenciesAsync(theirs.RoundTripAsync, 3000);
    Row("WebSocket message round trip through the host (hello /greet), 1 socket: p50 / p99", $"{Stats.Percentile(ourLatencies, 50):0} µs / {Stats.Percentile(ourLatencies, 99):0} µs");
    Row("WebSocket message round trip through YARP (backend in its own process): p50 / p99", $"{Stats.Percentile(yarpLatencies, 50):0} µs / {Stats.Percentile(yarpLatencies, 99):0} µs");
    var rounds = await AlternatingAsync(ours.RoundTripAsync, theirs.RoundTripAsync);
    Row("WebSocket messages/s, 16 sockets one message each in flight: ours / YARP's (medians)", $"{Stats.Median([.. rounds.Select(r => r.A.Rate)]):0} / {Stats.Median([.. rounds.Select(r => r.B.Rate)]):0}");
    Row("WebSocket rate ratio, host / YARP, 2 s windows taken in turn ×8: median (min–max)", Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)]));
    Row("WebSocket latency ratio, host / YARP, p50 of 400 at 1 in flight, in turn ×8", Spread([.. rounds.Select(r => r.A.P50 / r.B.P50)]));
    var cpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(ours.RoundTripAsync, 16, TimeSpan.FromSeconds(3)), host.Supervisor("hello").Snapshot.Pid);
    var yarpCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(theirs.RoundTripAsync, 16, TimeSpan.FromSeconds(3)), yarp.BackendPid);
    Row("WebSocket CPU per message round trip: bench process + worker; YARP: bench process + backend", $"{cpu}; {yarpCpu}");

    // What compression costs, on the same host and route: 1 KiB of JSON a message, on sockets that
    // offered permessage-deflate and on sockets that did not, taken in turn.
    await using var deflated = await WebSocketRoundTrips.ConnectAsync(ourUri, 16, WebSocketRoundTrips.JsonMessage, deflate: true);
    await using var plain = await WebSocketRoundTrips.ConnectAsync(ourUri, 16, WebSocketRoundTrips.JsonMessage);
    foreach (var trips in new[] { deflated, plain })
    {
        await Load.InFlightAsync(trips.RoundTripAsync, 16, TimeSpan.FromSeconds(3));
    }

    var compressed = await AlternatingAsync(deflated.RoundTripAsync, plain.RoundTripAsync);
    Row("WebSocket 1 KiB JSON messages/s, 16 sockets: compressed / plain (medians)", $"{Stats.Median([.. compressed.Select(r => r.A.Rate)]):0} / {Stats.Median([.. compressed.Select(r => r.B.Rate)]):0}");
    Row("WebSocket compressed / plain rate ratio, windows in turn ×8: median (min–max)", Spread([.. compressed.Select(r => r.A.Rate / r.B.Rate)]));
    Row("WebSocket compressed / plain latency ratio, p50 of 400 at 1 in flight, in turn ×8", Spread([.. compressed.Select(r => r.A.P50 / r.B.P50)]));
    var deflatedCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(deflated.RoundTripAsync, 16, TimeSpan.FromSeconds(3)), host.Supervisor("hello").Snapshot.Pid);
    var plainCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(plain.RoundTripAsync, 16, TimeSpan.FromSeconds(3)), host.Supervisor("hello").Snapshot.Pid);
    // The bench process is the client as well as the host: its figure holds both ends' compression.
    Row("WebSocket CPU per 1 KiB JSON round trip, bench process (client + host) + worker: compressed; plain", $"{deflatedCpu}; {plainCpu}");
}

// The same plugin twice, spawned (Unix socket) and attached (mutual TLS over loopback TCP),
// each with a hook point of its own, taken in turn: what the attached transport costs a call.
async Task AttachedAsync()
{
    var directory = Directory.CreateTempSubdirectory("gpb-pki-").FullName;
    System.Diagnostics.Process? far = null;
    try
    {
        var hosts = GrpcPlugins.Functional.Tests.Infrastructure.TestPki.Create(directory, "hosts");
        var plugins = GrpcPlugins.Functional.Tests.Infrastructure.TestPki.Create(directory, "plugins");
        var hostIdentity = hosts.IssueIdentity("host");
        var pluginIdentity = plugins.IssueIdentity("plugin");
        var port = GrpcPlugins.Functional.Tests.Infrastructure.LoopbackPort.Free();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var arg in new[] { BenchHost.Output("tests/TestPlugin", "TestPlugin.dll"), "normal", "--also-hook", "far" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PLUGIN_ATTACH_LISTEN"] = $"127.0.0.1:{port}";
        start.Environment["PLUGIN_TLS_CERT"] = pluginIdentity.Certificate;
        start.Environment["PLUGIN_TLS_KEY"] = pluginIdentity.Key;
        start.Environment["PLUGIN_TLS_CLIENT_CA"] = hosts.CaPath;
        start.Environment["PLUGIN_ID"] = "far";
        far = Process.Start(start)!;
        far.BeginErrorReadLine();
        far.BeginOutputReadLine();

        var near = BenchHost.Test("near", "normal");
        ((JsonArray)near["args"]!).Add("--also-hook");
        ((JsonArray)near["args"]!).Add("near");
        near["hooks"] = new JsonArray("request", "near");
        var attached = new JsonObject
        {
            ["id"] = "far",
            ["version"] = "1.0.0",
            ["attach"] = new JsonObject { ["address"] = $"https://localhost:{port}" },
            ["hooks"] = new JsonArray("request", "far"),
        };
        await using var host = await BenchHost.StartAsync([near, attached], o =>
        {
            o.Attach.CertificatePath = hostIdentity.Certificate;
            o.Attach.KeyPath = hostIdentity.Key;
            o.Attach.TrustedCaPath = plugins.CaPath;
            o.StartTimeout = TimeSpan.FromSeconds(30);
        });
        await host.WaitReadyAsync("near");
        await host.WaitReadyAsync("far");
        var nearPoint = BenchHost.Request with { Name = "near" };
        var farPoint = BenchHost.Request with { Name = "far" };
        Task Call(HookPoint point) => host.Hooks.DispatchAsync(point, Input(16)).AsTask().ContinueWith(t =>
        {
            if (t.Result.Skipped.Count > 0)
            {
                throw new InvalidOperationException($"a hook call failed: {t.Result.Skipped[0]}");
            }
        }, TaskScheduler.Default);

        await Load.InFlightAsync(() => Call(farPoint), 4, TimeSpan.FromSeconds(3));
        await Load.InFlightAsync(() => Call(nearPoint), 4, TimeSpan.FromSeconds(3));
        var rounds = await AlternatingAsync(() => Call(farPoint), () => Call(nearPoint));
        Row("hook round trip, 16 B, attached (mutual TLS, loopback TCP) / spawned (Unix socket): p50 at 1 in flight (medians of 8 rounds in turn)", $"{Stats.Median([.. rounds.Select(r => r.A.P50)]):0} µs / {Stats.Median([.. rounds.Select(r => r.B.P50)]):0} µs; ratio {Spread([.. rounds.Select(r => r.A.P50 / r.B.P50)])}");
        Row("hook throughput, 16 B, 16 in flight, attached / spawned (medians of 8 rounds in turn)", $"{Stats.Median([.. rounds.Select(r => r.A.Rate)]):0} / {Stats.Median([.. rounds.Select(r => r.B.Rate)]):0} calls/s; ratio {Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)])}");
    }
    finally
    {
        if (far is not null)
        {
            far.Kill(entireProcessTree: true);
            await far.WaitForExitAsync();
            far.Dispose();
        }

        Directory.Delete(directory, recursive: true);
    }
}

if (Runs("settings"))
{
    await SettingsAsync();
}

if (Runs("replicas"))
{
    await ReplicasAsync();
}

if (Runs("restart"))
{
    await RestartAsync();
}

// A settings write on one store and the other, taken in turn, one host each: an embedded SQLite
// file (full sync) against a PostgreSQL server on this machine (its defaults: a commit waits for
// its WAL flush), reached over its Unix socket; then, with a second replica on that server, how
// long a write on one takes to reach the plugin on the other (from the write sent to the other's
// plugin answering with it, polled over HTTP every 0.2 ms).
async Task ReplicasAsync()
{
    using var server = GrpcPlugins.Functional.Tests.Infrastructure.PostgresServer.Durable();
    var database = server.CreateDatabase();
    var bundleWork = Directory.CreateTempSubdirectory("gpb-bundles-").FullName;
    using var publisher = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
    var trust = Directory.CreateDirectory(Path.Combine(bundleWork, "trust")).FullName;
    await File.WriteAllTextAsync(Path.Combine(trust, "publisher.pem"), publisher.ExportSubjectPublicKeyInfoPem());
    try
    {
        await ReplicasInAsync(database, bundleWork, trust, publisher);
        await ImportAsync(server);
    }
    finally
    {
        Directory.Delete(bundleWork, recursive: true);
    }
}

// A single host's store moved into PostgreSQL (BundleTool import-store): a long-lived host's
// state, the audit trail at its default bound (100,000 entries) and 2,000 tenants' settings with
// the 10 revisions each that are kept, into an empty database of the same durable server.
async Task ImportAsync(GrpcPlugins.Functional.Tests.Infrastructure.PostgresServer server)
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
        Row($"import-store of a long-lived host into PostgreSQL: {counts.AuditEntries} audit entries, {counts.Settings} settings with {counts.Revisions} revisions", $"{took.TotalSeconds:0.00} s ({rows / took.TotalSeconds:0} rows/s)");
    }
    finally
    {
        Directory.Delete(state, recursive: true);
    }
}

async Task ReplicasInAsync(string database, string bundleWork, string trust, System.Security.Cryptography.ECDsa publisher)
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
    Row("settings write through the admin API, SQLite / PostgreSQL store: p50 (medians of 8 rounds in turn); ratio", $"{Stats.Median([.. rounds.Select(r => r.A)]):0} / {Stats.Median([.. rounds.Select(r => r.B)]):0} µs; {Spread([.. rounds.Select(r => r.B / r.A)])}");

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

    Row("a write on one replica: committed there / in the plugin on the other replica: p50 / p99", $"{Stats.Percentile(written, 50):0} µs / {Stats.Percentile(written, 99):0} µs; {Stats.Percentile(reached, 50):0} µs / {Stats.Percentile(reached, 99):0} µs");

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
        Row($"an install followed by the other replica, {mib:0.0} MiB bundle: upload and install on one / then answering there / answering on the other; the store read alone (median of 5)", $"{installedThere.TotalMilliseconds:0} ms / {answering[0].TotalMilliseconds:0} ms / {answering[1].TotalMilliseconds:0} ms; {Stats.Median(fetch):0} ms ({mib / (Stats.Median(fetch) / 1000):0} MiB/s)");
    }
}

// The settings paths across the contract: a plugin reading its settings from the host during a
// call (the PluginHost service, over the host's own socket), and an admin's write (validated
// against the schema, offered to the plugin through Configure, committed to the SQLite store).
async Task SettingsAsync()
{
    var manifest = BenchHost.Test("t", "normal");
    manifest["permissions"] = new JsonArray("settings.read");
    manifest["settingsSchema"] = JsonNode.Parse("""{ "type": "object", "properties": { "greeting": { "type": "string", "maxLength": 20 } }, "additionalProperties": false }""");
    manifest["routes"] = BenchHost.AnonymousRoutes(("GET", "/whoami"), ("GET", "/settings"));
    // "t" also handles a point of its own, so that a call there reaches it alone.
    ((JsonArray)manifest["args"]!).Add("--also-hook");
    ((JsonArray)manifest["args"]!).Add("quiet");
    manifest["hooks"] = new JsonArray("request", "quiet");
    var storm = BenchHost.Test("storm", "normal");
    storm["permissions"] = new JsonArray("settings.read", "settings.write");
    storm["settingsSchema"] = manifest["settingsSchema"]!.DeepClone();
    storm["routes"] = BenchHost.AnonymousRoutes(("POST", "/settings-storm"));
    // Unpaced (PluginHost:SettingsWritesPerSecond 0): the storm measures the turns the host gives a plugin's calls.
    await using var host = await BenchHost.StartAsync([manifest, storm], o =>
    {
        o.AdminApiKey = BenchHost.AdminKey;
        o.SettingsWritesPerSecond = 0;
    });
    await host.WaitReadyAsync("t");
    await host.WaitReadyAsync("storm");
    using var http = host.AdminClient();

    // The same route with and without the read: the difference is the callback.
    await Load.InFlightAsync(() => RouteAsync(http, "/plugins/t/settings"), 4, TimeSpan.FromSeconds(4));
    await Load.InFlightAsync(() => RouteAsync(http, "/plugins/t/whoami"), 4, TimeSpan.FromSeconds(2));
    var rounds = await AlternatingAsync(() => RouteAsync(http, "/plugins/t/settings"), () => RouteAsync(http, "/plugins/t/whoami"));
    Row("settings read by a plugin during a route (PluginHost.GetSettings): p50 it adds at 1 in flight (median of 8 rounds' differences) / rate ratio at 16", $"{Stats.Median([.. rounds.Select(r => r.A.P50 - r.B.P50)]):0} µs / {Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)])}");

    var writes = 0;
    async Task WriteAsync()
    {
        using var body = new StringContent($$"""{ "greeting": "hello {{Interlocked.Increment(ref writes) % 1000}}" }""", Encoding.UTF8, "application/json");
        using var response = await http.PutAsync("/admin/api/plugins/t/settings", body);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"settings write failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    await Load.InFlightAsync(WriteAsync, 1, TimeSpan.FromSeconds(2));
    var latencies = await Load.LatenciesAsync(WriteAsync, 300);
    var rate = await Load.InFlightAsync(WriteAsync, 4, TimeSpan.FromSeconds(3));
    Row("settings write through the admin API (schema, Configure in the worker, SQLite commit): p50 / p99 one at a time; writes/s with 4 in flight (one plugin's writes take turns)", $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs; {rate:0} writes/s");

    // A plugin writing its settings from 64 tasks at once (per-request state kept in settings, a
    // bug), and what that does to everyone else: another plugin's hook calls, before and during.
    var point = BenchHost.Request with { Name = "quiet" };
    var quiet = await Load.LatenciesAsync(() => host.Hooks.DispatchAsync(point, Input(16)).AsTask(), 300);
    var storming = http.PostAsync("/plugins/storm/settings-storm?writers=64&ms=6000", null);
    await Task.Delay(1000);
    var stormed = await Load.LatenciesAsync(() => host.Hooks.DispatchAsync(point, Input(16)).AsTask(), 200);
    using var stormAnswer = await storming;
    var written = await stormAnswer.Content.ReadAsStringAsync();
    Row("another plugin's hook round trip while one plugin writes its settings from 64 tasks: p50 / p99 (quiet p50); the storm's writes", $"{Stats.Percentile(stormed, 50) / 1000:0.0} ms / {Stats.Percentile(stormed, 99) / 1000:0.0} ms ({Stats.Percentile(quiet, 50):0} µs); {written} in 6 s");
}

// Large bodies: a plugin route answering a file export or taking an import, against YARP
// proxying a backend in its own process that writes the same bytes in the same 64 KiB
// writes, taken in turn. One transfer at a time, as a client downloading a file makes it.
async Task TransfersAsync()
{
    var manifest = BenchHost.Test("t", "normal");
    manifest["routes"] = BenchHost.AnonymousRoutes(("GET", "/bytes"), ("POST", "/upload"));
    await using var host = await BenchHost.StartAsync([manifest]);
    await host.WaitReadyAsync("t");
    await using var yarp = await YarpBaseline.StartAsync(backendInOwnProcess: true);
    using var ours = new HttpClient { BaseAddress = host.Address };
    using var theirs = new HttpClient { BaseAddress = yarp.Address };
    var upload = new byte[16 * 1024 * 1024];

    // The same upload with the plugin's pull turned off (PullRouteBodies = false): the body in
    // HandleHttp's frames, as before session 17 and as for plugins that do not pull, in this run.
    var streamedManifest = BenchHost.Test("s", "normal");
    streamedManifest["routes"] = BenchHost.AnonymousRoutes(("POST", "/upload"));
    await using var streamedHost = await BenchHost.StartAsync([streamedManifest], o => o.PullRouteBodies = false);
    await streamedHost.WaitReadyAsync("s");
    using var streamed = new HttpClient { BaseAddress = streamedHost.Address };

    foreach (var (what, bytes, path, send, http, prefix, worker) in new (string, long, string, Func<HttpClient, string, Task>, HttpClient, string, PluginSupervisor)[]
    {
        ("download 1 MiB", 1L << 20, "bytes?n=1048576", DownloadAsync, ours, "/plugins/t/", host.Supervisor("t")),
        ("download 64 MiB", 64L << 20, "bytes?n=67108864", DownloadAsync, ours, "/plugins/t/", host.Supervisor("t")),
        ("upload 16 MiB", upload.Length, "upload", (http, p) => PostAsync(http, p, upload), ours, "/plugins/t/", host.Supervisor("t")),
        ("upload 16 MiB streamed in the route call (no pull)", upload.Length, "upload", (http, p) => PostAsync(http, p, upload), streamed, "/plugins/s/", streamedHost.Supervisor("s")),
    })
    {
        // Warm both paths (JIT, window sizes) before the rounds.
        await Load.InFlightAsync(() => send(http, prefix + path), 1, TimeSpan.FromSeconds(2));
        await Load.InFlightAsync(() => send(theirs, "/yarp/" + path), 1, TimeSpan.FromSeconds(2));
        var rounds = await InTurnAsync(() => MiBPerSecondAsync(http, prefix), () => MiBPerSecondAsync(theirs, "/yarp/"), 6);
        Row($"route {what}, 1 at a time, host / YARP: MiB/s (medians of 6 rounds in turn); ratio", $"{Stats.Median([.. rounds.Select(r => r.A)]):0} / {Stats.Median([.. rounds.Select(r => r.B)]):0} MiB/s; {Spread([.. rounds.Select(r => r.A / r.B)])}");
        var ourCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(() => send(http, prefix + path), 1, TimeSpan.FromSeconds(2)), worker.Snapshot.Pid);
        var theirCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(() => send(theirs, "/yarp/" + path), 1, TimeSpan.FromSeconds(2)), yarp.BackendPid);
        Row($"  CPU per MiB: bench process (client + host / proxy) + worker / backend, host; YARP", $"{ourCpu.PerMiB(bytes)}; {theirCpu.PerMiB(bytes)}");

        async Task<double> MiBPerSecondAsync(HttpClient client, string at) =>
            await Load.InFlightAsync(() => send(client, at + path), 1, TimeSpan.FromSeconds(1.5)) * bytes / (1024.0 * 1024);
    }

    // A small body without a declared length (a client that streams its JSON) against the same
    // body with one: the host takes a body that has all arrived whole, as it does a declared one.
    var small = new byte[3000];
    var smallRounds = await AlternatingAsync(() => PostAsync(ours, "/plugins/t/upload", small, chunked: true), () => PostAsync(ours, "/plugins/t/upload", small));
    Row(
        "route POST of 3000 B without a length (chunked) / with a Content-Length: p50 at 1 in flight; rate at 16 (medians of 8 rounds in turn)",
        $"{Stats.Median([.. smallRounds.Select(r => r.A.P50)]):0} / {Stats.Median([.. smallRounds.Select(r => r.B.P50)]):0} µs; {Stats.Median([.. smallRounds.Select(r => r.A.Rate)]):0} / {Stats.Median([.. smallRounds.Select(r => r.B.Rate)]):0} req/s");

    static async Task DownloadAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        await body.CopyToAsync(Stream.Null);
    }
}

async Task HooksAsync(BenchHost host)
{
    // Warm both processes' JIT (tiered compilation) before the first figure.
    await HookLoopAsync(host.Hooks, Input(16), 4, TimeSpan.FromSeconds(4));

    // 16 B is the issue's "small body" for the p50 target; 0 B, 1 KiB and 64 KiB are its grid.
    // The small sizes take turns in five rounds: whichever came first after the warm-up's four
    // in flight read 10–25 % slower than the rest (session 18, by reordering them). 64 KiB
    // comes after, so its copies and collections do not land in the small ones' rounds.
    int[] small = [0, 16, 1024];
    await HookLoopAsync(host.Hooks, Input(16), 1, TimeSpan.FromSeconds(1));
    var bySize = small.ToDictionary(size => size, _ => new List<double>());
    for (var round = 0; round < 5; round++)
    {
        foreach (var size in small)
        {
            bySize[size].AddRange(await HookLatenciesAsync(host.Hooks, Input(size), 2_000));
        }
    }

    bySize[64 * 1024] = await HookLatenciesAsync(host.Hooks, Input(64 * 1024), 3_000);
    foreach (var (size, latencies) in bySize)
    {
        Row($"hook round trip, 1 in flight, {Size(size)} body: p50 / p99", $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs");
    }

    // Traffic with pauses: after 10 ms without a call, every thread on the path has gone to
    // sleep and the caches have cooled. The floor beside it, in the same run: one byte to a
    // child process and back on blocking threads.
    var idle = await Load.LatenciesAsync(() => HookAsync(host.Hooks, Input(16)), 500, TimeSpan.FromMilliseconds(10));

    Row("hook round trip, 1 in flight, 16 B body, each after 10 ms idle: p50 / p99", $"{Stats.Percentile(idle, 50):0} µs / {Stats.Percentile(idle, 99):0} µs");
    var floor = PingPong.Measure([TimeSpan.Zero, TimeSpan.FromMilliseconds(10)], 500);
    Row("the floor: 1 byte to a child process and back (Unix socket), back to back / after 10 ms idle: p50", $"{Stats.Percentile(floor[0], 50):0} µs / {Stats.Percentile(floor[1], 50):0} µs");

    foreach (var inFlight in new[] { 1, 4, 16, 64 })
    {
        var rates = new List<string>();
        foreach (var size in new[] { 0, 1024, 64 * 1024 })
        {
            rates.Add($"{await HookLoopAsync(host.Hooks, Input(size), inFlight, TimeSpan.FromSeconds(size > 1024 ? 2 : 3)):0}");
        }

        Row($"hook throughput, {inFlight} in flight, 0 B / 1 KiB / 64 KiB body", $"{string.Join(" / ", rates)} calls/s");
    }

    var smallRate = await HookLoopAsync(host.Hooks, Input(16), 16, TimeSpan.FromSeconds(3));
    Row("hook throughput, 16 in flight, 16 B body", $"{smallRate:0} calls/s");

    // What a hook call costs each side, and what the host's dispatcher and client allocate for it.
    var cpu = await Load.MeasureCpuAsync(() => HookLoopAsync(host.Hooks, Input(16), 16, TimeSpan.FromSeconds(3)), host.Supervisor("hello").Snapshot.Pid!.Value);
    Row("hook CPU per call, 16 in flight, 16 B body: host + worker", $"{cpu}; the host allocates {cpu.OwnBytes:0} B a call");
}

// An application endpoint of the host's own, bare and run through a request and a response
// hook point (WithPluginHooks, hello at both), taken in turn: what the two points cost it.
async Task EndpointHooksAsync(BenchHost host)
{
    using var http = new HttpClient { BaseAddress = host.Address };
    var body = Encoding.UTF8.GetBytes("0123456789abcdef");
    Task Post(string path) => PostAsync(http, path, body);
    await Load.InFlightAsync(() => Post(BenchHost.EchoPath), 4, TimeSpan.FromSeconds(4));
    await Load.InFlightAsync(() => Post(BenchHost.HookedEchoPath), 4, TimeSpan.FromSeconds(6));
    var rounds = await AlternatingAsync(() => Post(BenchHost.HookedEchoPath), () => Post(BenchHost.EchoPath));
    var bare = (Rate: Stats.Median([.. rounds.Select(r => r.B.Rate)]), P50: Stats.Median([.. rounds.Select(r => r.B.P50)]));
    var hooked = (Rate: Stats.Median([.. rounds.Select(r => r.A.Rate)]), P50: Stats.Median([.. rounds.Select(r => r.A.P50)]));
    Row("application endpoint, POST 16 B, bare: p50 at 1 in flight / rate at 16 (medians of 8 windows)", $"{bare.P50:0} µs / {bare.Rate:0} req/s");
    Row("the same through a request and a response hook point (WithPluginHooks, hello)", $"{hooked.P50:0} µs / {hooked.Rate:0} req/s");
    Row("  the two points add at p50 (median of the rounds' differences) / rate ratio", $"{Stats.Median([.. rounds.Select(r => r.A.P50 - r.B.P50)]):0} µs / {Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)])}");
}

static async Task PostAsync(HttpClient http, string path, byte[] body, bool chunked = false)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
    // Chunked: no Content-Length, as a client that streams its body sends it.
    request.Headers.TransferEncodingChunked = chunked;
    using var response = await http.SendAsync(request);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{path} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    await response.Content.ReadAsByteArrayAsync();
}

async Task RoutesAsync(BenchHost host)
{
    using var http = new HttpClient { BaseAddress = host.Address };
    var workerPid = host.Supervisor("hello").Snapshot.Pid!.Value;
    var ours = await MeasureRouteAsync(http, "/plugins/hello/ping", workerPid);
    Row("route GET /plugins/hello/ping through the host, 1 in flight: p50 / p99", ours.Latency);
    Row("route throughput, 16 in flight (HTTP/1.1 client on loopback)", ours.Throughput);
    Row("route CPU per request: bench process (client + host) + worker", ours.Cpu);
    Row("route context switches per request: bench process / worker", ours.Switches);
    Row("route bytes allocated per request in the bench process (client + host)", ours.Allocated);

    // The route's gRPC leg alone, as the forwarder makes it, and a hook call over the
    // same connection: what the host-to-worker hop costs a route beside a hook.
    foreach (var (what, call) in new (string, Func<GrpcPlugins.Supervisor.Connection.WorkerConnection, Task>)[]
    {
        ("HandleHttpBuffered", RouteLeg.CallAsync),
        ("InvokeHook", async c => await c.Plugin.InvokeHookAsync(new GrpcPlugins.Protocol.V1.HookRequest { Point = "request", Body = Google.Protobuf.ByteString.CopyFromUtf8("0123456789abcdef") })),
    })
    {
        var leg = await GrpcLegAsync(host, call, workerPid);
        Row($"route's gRPC leg alone: {what} to the worker: 1, then 16 in flight", leg);
    }

    // The same leg made from inside a host endpoint, beside the leg alone and the bare endpoint,
    // taken in turn: what a gRPC call costs once it sits inside a request the host serves.
    var pieces = new List<(double Whole, double Inside, double Alone, double Bare)>();
    for (var round = 0; round < 6; round++)
    {
        RouteLeg.InsideRequest.Clear();
        var whole = Stats.Median(await Load.LatenciesAsync(() => RouteAsync(http, RouteLeg.EndpointPath), 1000));
        var inside = Stats.Median([.. RouteLeg.InsideRequest]);
        var alone = Stats.Median(await Load.LatenciesAsync(() => RouteLeg.CallAsync(host.Supervisor("hello").ReadyWorker!.Connection), 1000));
        var bare = Stats.Median(await Load.LatenciesAsync(() => RouteAsync(http, "/bench/pong"), 1000));
        pieces.Add((whole, inside, alone, bare));
    }

    Row(
        "route's gRPC leg from inside a host endpoint, 1 in flight, p50s (medians of 6 rounds in turn): whole request / the leg inside it / the leg alone / the bare endpoint; whole - (alone + bare)",
        $"{Stats.Median([.. pieces.Select(p => p.Whole)]):0} / {Stats.Median([.. pieces.Select(p => p.Inside)]):0} / {Stats.Median([.. pieces.Select(p => p.Alone)]):0} / {Stats.Median([.. pieces.Select(p => p.Bare)]):0} µs; {Stats.Median([.. pieces.Select(p => p.Whole - p.Alone - p.Bare)]):0} µs");

    // The same handler behind YARP, in the same run, so the ratio is fair on a noisy machine:
    // first with the backend in its own process (as a plugin is), then in the benchmark's.
    foreach (var ownProcess in new[] { true, false })
    {
        await using var yarp = await YarpBaseline.StartAsync(ownProcess);
        using var yarpHttp = new HttpClient { BaseAddress = yarp.Address };
        var theirs = await MeasureRouteAsync(yarpHttp, "/yarp/ping", yarp.BackendPid);
        var where = ownProcess ? "backend in its own process" : "backend in the bench process";
        Row($"YARP to Kestrel on a Unix socket, {where}, 1 in flight: p50 / p99", theirs.Latency);
        Row($"YARP, {where}, 16 in flight", theirs.Throughput);
        Row($"YARP, {where}, CPU per request", theirs.Cpu);
        Row($"YARP, {where}, context switches per request", theirs.Switches);
        Row($"YARP, {where}, bytes allocated per request in the bench process", theirs.Allocated);
        Row($"route throughput ratio, host / YARP ({where})", $"{ours.Rate / theirs.Rate:0.00}");
        if (ownProcess)
        {
            var (rate, latency) = await AlternatingRatiosAsync(http, "/plugins/hello/ping", yarpHttp, "/yarp/ping");
            Row("route throughput ratio, host / YARP (own process), 2 s windows taken in turn ×8: median (min–max)", rate);
            Row("route latency ratio, host / YARP (own process), p50 of 400 calls at 1 in flight taken in turn ×8: median (min–max)", latency);

            // The same two ratios for an endpoint each app answers itself: what the host's own
            // pipeline (routing, authentication) costs beside a bare app, with no worker or backend.
            var (ownRate, ownLatency) = await AlternatingRatiosAsync(http, "/bench/pong", yarpHttp, "/bench/pong");
            Row("an endpoint in the app itself, host's app / YARP's app, taken in turn ×8: throughput ratio; latency ratio", $"{ownRate}; {ownLatency}");

            // YARP again, speaking HTTP/2 to its backend (prior knowledge on the Unix socket), as the
            // host speaks to a worker: the framework's HTTP/2 client and server without gRPC or our
            // code. Against the route, and against YARP over HTTP/1.1, each in windows taken in turn.
            await using var yarp2 = await YarpBaseline.StartAsync(backendInOwnProcess: true, http2: true);
            using var yarp2Http = new HttpClient { BaseAddress = yarp2.Address };
            var overHttp2 = await MeasureRouteAsync(yarp2Http, "/yarp/ping", yarp2.BackendPid);
            Row("YARP over HTTP/2 to its backend (own process), 1 in flight: p50 / p99", overHttp2.Latency);
            Row("YARP over HTTP/2, 16 in flight", overHttp2.Throughput);
            Row("YARP over HTTP/2, CPU per request", overHttp2.Cpu);
            Row("YARP over HTTP/2, context switches per request", overHttp2.Switches);
            var (h2Rate, h2Latency) = await AlternatingRatiosAsync(yarp2Http, "/yarp/ping", yarpHttp, "/yarp/ping");
            Row("YARP over HTTP/2 / YARP over HTTP/1.1, taken in turn ×8: throughput ratio; latency ratio", $"{h2Rate}; {h2Latency}");
            var (routeRate, routeLatency) = await AlternatingRatiosAsync(http, "/plugins/hello/ping", yarp2Http, "/yarp/ping");
            Row("route / YARP over HTTP/2, taken in turn ×8: throughput ratio; latency ratio", $"{routeRate}; {routeLatency}");

            // At 1 in flight the machine is not idle: every process's thread pool spins between
            // hand-offs, and the CPU a request takes says how much of two cores that is.
            foreach (var (what, path, client, pid) in new[] { ("route", "/plugins/hello/ping", http, workerPid), ("YARP", "/yarp/ping", yarpHttp, yarp.BackendPid!.Value), ("YARP over HTTP/2", "/yarp/ping", yarp2Http, yarp2.BackendPid!.Value) })
            {
                var single = await Load.MeasureCpuAsync(() => RouteLoopAsync(client, path, 1, TimeSpan.FromSeconds(3)), pid);
                Row($"{what}, 1 in flight for 3 s: time per request; CPU per request: bench process + {(what == "route" ? "worker" : "backend")}; switches", $"{1e6 / single.Rate:0} µs; {single}; {single.SwitchesPerCall}");
            }

            // A request with a body, as every gRPC call has (the route's request message): 16 B
            // posted through YARP over HTTP/2 to a handler that reads it.
            var small = new byte[16];
            await Load.InFlightAsync(() => PostAsync(yarp2Http, "/yarp/upload", small), 16, TimeSpan.FromSeconds(3));
            var posted = await Load.MeasureCpuAsync(() => Load.InFlightAsync(() => PostAsync(yarp2Http, "/yarp/upload", small), 16, TimeSpan.FromSeconds(3)), yarp2.BackendPid);
            Row("YARP over HTTP/2, POST of 16 B, 16 in flight: rate; CPU per request; switches per request", $"{posted.Rate:0} req/s; {posted}; {posted.SwitchesPerCall}");
        }
    }
}

// The two rates above are taken a minute apart, and this machine's speed drifts by tens of
// percent within minutes; windows taken in turn put both paths under the same drift. The
// latency ratio is ours over YARP's, so for both figures parity is 1.00 and the issue's
// target is a rate ratio of at least 1 and a latency ratio of at most 1.
static async Task<(string Rate, string Latency)> AlternatingRatiosAsync(HttpClient ours, string ourPath, HttpClient yarp, string yarpPath)
{
    var rounds = await AlternatingAsync(() => RouteAsync(ours, ourPath), () => RouteAsync(yarp, yarpPath));
    return (Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)]), Spread([.. rounds.Select(r => r.A.P50 / r.B.P50)]));
}

// Eight rounds of two paths, each a 2 s window at 16 in flight and the p50 of 400 calls at 1.
static Task<List<((double Rate, double P50) A, (double Rate, double P50) B)>> AlternatingAsync(Func<Task> a, Func<Task> b)
{
    return InTurnAsync(() => RoundAsync(a), () => RoundAsync(b), 8);

    static async Task<(double Rate, double P50)> RoundAsync(Func<Task> call)
    {
        var rate = await Load.InFlightAsync(call, 16, TimeSpan.FromSeconds(2));
        var p50 = Stats.Median(await Load.LatenciesAsync(call, 400));
        return (rate, p50);
    }
}

// Rounds of two measurements taken in turn; half the rounds start with the second, so neither
// always comes second on a machine whose speed drifts.
static async Task<List<(T A, T B)>> InTurnAsync<T>(Func<Task<T>> a, Func<Task<T>> b, int rounds)
{
    var results = new List<(T, T)>();
    for (var i = 0; i < rounds; i++)
    {
        if (i % 2 == 0)
        {
            var first = await a();
            results.Add((first, await b()));
        }
        else
        {
            var second = await b();
            results.Add((await a(), second));
        }
    }

    return results;
}

static string Spread(List<double> values)
{
    values.Sort();
    return $"{Stats.Median(values):0.00} ({values[0]:0.00}–{values[^1]:0.00})";
}

async Task RestartAsync()
{
    // Ready for a second counts as stable here, so that every kill meets the first
    // backoff step, as a worker that has run for a while does (the default is 60 s).
    await using var host = await BenchHost.StartAsync([BenchHost.Hello("hello")], o =>
    {
        o.RestartStablePeriod = TimeSpan.FromSeconds(1);
        o.MaxRestarts = 100;
    });
    await host.WaitReadyAsync("hello");
    var supervisor = host.Supervisor("hello");
    var firstStart = host.SpawnToReady("hello").TotalMilliseconds;

    var seen = new List<(WorkerState State, long At)>();
    supervisor.StateChanged += snapshot =>
    {
        lock (seen)
        {
            seen.Add((snapshot.State, Stopwatch.GetTimestamp()));
        }
    };

    var total = new List<double>();
    var toExit = new List<double>();
    var backoff = new List<double>();
    var toReady = new List<double>();
    for (var i = 0; i < 5; i++)
    {
        await Task.Delay(1500);
        lock (seen)
        {
            seen.Clear();
        }

        var pid = supervisor.Snapshot.Pid!.Value;
        var start = Stopwatch.GetTimestamp();
        ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
        while (supervisor.Snapshot.State != WorkerState.Ready || supervisor.Snapshot.Pid == pid)
        {
            await Task.Delay(1);
        }

        total.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);

        // The snapshot says Ready a moment before its StateChanged handler has run.
        while (!HasSeen(WorkerState.Ready))
        {
            await Task.Delay(1);
        }

        lock (seen)
        {
            long At(WorkerState state) => seen.First(s => s.State == state).At;
            double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
            toExit.Add(Ms(start, At(WorkerState.Crashed)));
            backoff.Add(Ms(At(WorkerState.Crashed), At(WorkerState.Starting)));
            toReady.Add(Ms(At(WorkerState.Starting), At(WorkerState.Ready)));
        }
    }

    bool HasSeen(WorkerState state)
    {
        lock (seen)
        {
            return seen.Any(s => s.State == state);
        }
    }

    Row("kill -9 of the worker to Ready again (median of 5, first backoff step 200 ms ±20 %)", $"{Stats.Median(total):0} ms (min {total.Min():0}, max {total.Max():0})");
    Row("  of which: exit seen / backoff / spawn to Ready (medians)", $"{Stats.Median(toExit):0} ms / {Stats.Median(backoff):0} ms / {Stats.Median(toReady):0} ms");
    Row("  the same worker's first start, spawn to Ready", $"{firstStart:0} ms");
}

if (Runs("cold"))
{
    await ColdStartsAsync();
}

if (Runs("hoststart"))
{
    var start = await HostStart.MeasureAsync(7, CancellationToken.None);
    Row("host start: the reference host spawned to its first admin answer (no plugins, JIT; median of 7)", $"{Stats.Median(start.Milliseconds):0} ms (min {start.Milliseconds.Min():0}, max {start.Milliseconds.Max():0})");
    Row("  its CPU until then (median)", $"{Stats.Median(start.CpuMilliseconds):0} ms");
}

if (Runs("soak"))
{
    await SoakAsync();
}

// Routes and hooks to hello for a minute, 8 of each in flight: what the host and the worker hold
// after the first round and after the last, each time after a full collection.
async Task SoakAsync()
{
    // Five kills within a minute would trip the crash-loop breaker at its default.
    await using var host = await BenchHost.StartAsync([BenchHost.Hello("hello")], o => o.MaxRestarts = 20);
    await host.WaitReadyAsync("hello");
    using var http = new HttpClient { BaseAddress = host.Address };
    var input = Input(16);
    var samples = await Soak.RunAsync(
        () => RouteAsync(http, "/plugins/hello/ping"),
        () => HookAsync(host.Hooks, input),
        host.Supervisor("hello").Snapshot.Pid!.Value,
        inFlight: 8,
        rounds: 6,
        round: TimeSpan.FromSeconds(10));
    string Each(Func<Soak.Sample, string> figure) => string.Join(", ", samples.Select(figure));
    Row($"soak: routes and hooks to hello, 8 + 8 in flight for 60 s ({samples[^1].Calls} calls): bench process (client + host) managed heap after a full collection, every 10 s", $"{Each(s => MiB(s.ManagedBytes))} MiB");
    Row("  bench process file descriptors; threads, every 10 s", $"{Each(s => s.Descriptors.ToString(System.Globalization.CultureInfo.InvariantCulture))}; {Each(s => s.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
    Row("  worker RSS; file descriptors, every 10 s", $"{Each(s => MiB(s.WorkerRss))} MiB; {Each(s => s.WorkerDescriptors.ToString(System.Globalization.CultureInfo.InvariantCulture))}");

    // The same load with the worker killed as each round begins: what a plugin's crash costs
    // the callers, and whether the host keeps anything of the workers it lost.
    var supervisor = host.Supervisor("hello");
    async Task<int> ReadyPid()
    {
        await host.WaitReadyAsync("hello");
        return supervisor.Snapshot.Pid!.Value;
    }

    var (outages, afterKills) = await Soak.WithKillsAsync(
        () => RouteAsync(http, "/plugins/hello/ping"),
        () => HookAsync(host.Hooks, input),
        ReadyPid,
        inFlight: 8,
        rounds: 5,
        round: TimeSpan.FromSeconds(10));
    string EachOutage(Func<Soak.Outage, string> figure) => string.Join(", ", outages.Select(figure));
    Row("soak with the worker killed (SIGKILL) as each 10 s round begins, 8 + 8 in flight: kill to the last failed call, each kill (the backoff doubles from 200 ms)", $"{EachOutage(o => $"{o.Gap.TotalMilliseconds:0}")} ms");
    Row("  failed calls per kill, routes; hooks (a failed caller waits 1 ms)", $"{EachOutage(o => o.RouteFailures.ToString(System.Globalization.CultureInfo.InvariantCulture))}; {EachOutage(o => o.HookFailures.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
    Row("  bench process managed heap after a full collection; file descriptors; threads, after each round", $"{string.Join(", ", afterKills.Select(s => MiB(s.ManagedBytes)))} MiB; {string.Join(", ", afterKills.Select(s => s.Descriptors))}; {string.Join(", ", afterKills.Select(s => s.Threads))}");
}

async Task ColdStartsAsync()
{
    await ColdStartAsync(BenchHost.Test("cold", "normal"), "JIT plugin (own command)");
    foreach (var (folder, what) in new[] { ("testplugin", "JIT plugin published ReadyToRun"), ("testplugin-trimmed", "JIT plugin, self-contained and trimmed (composite ReadyToRun)") })
    {
        if (BenchHost.TestReadyToRun("cold", folder) is { } readyToRun)
        {
            await ColdStartAsync(readyToRun, what);
        }
    }

    // The hello example as `make run` starts it: an assembly loaded by PluginWorker, built, then published ReadyToRun.
    await ColdStartAsync(BenchHost.Hello("hello"), "hello under PluginWorker (build output)");
    if (BenchHost.PluginWorkerReadyToRun() is { } worker)
    {
        await ColdStartAsync(BenchHost.Hello("hello"), "hello under PluginWorker published ReadyToRun", o => o.WorkerPath = worker);
    }

    if (BenchHost.HelloAot() is { } aot)
    {
        await ColdStartAsync(aot, "NativeAOT hello");
    }

    await ColdStartAsync(BenchHost.Python(), "Python example");
    await ColdStartAsync(BenchHost.Node(), "Node.js example");
    // go-plugin's own Go plugin: 7-8 ms spawn to first call on this machine class (issue 8).
    await ColdStartAsync(BenchHost.Go(), "Go example (grpc-go)");
}

async Task ColdStartAsync(JsonObject manifest, string what, Action<GrpcPlugins.Host.Hosting.PluginHostOptions>? configure = null)
{
    // The first start shares the two cores with the host's own start; the
    // restarts after it are a worker's start alone, in a host that is running.
    var id = manifest["id"]!.GetValue<string>();
    await using var host = await BenchHost.StartAsync([manifest], configure);
    await host.WaitReadyAsync(id);
    var first = host.SpawnToReady(id).TotalMilliseconds;
    var supervisor = host.Supervisor(id);
    var starts = new List<double>();
    var steps = new List<WorkerStartTimes>();
    long rss = 0;
    for (var i = 0; i < 7; i++)
    {
        await Task.Delay(500);
        var pid = supervisor.Snapshot.Pid!.Value;
        rss = ProcessGroups.ReadRss(pid);
        supervisor.RequestRestart();
        while (supervisor.Snapshot.State != WorkerState.Ready || supervisor.Snapshot.Pid == pid)
        {
            await Task.Delay(1);
        }

        starts.Add(host.SpawnToReady(id).TotalMilliseconds);
        steps.Add(supervisor.ReadyWorker!.StartTimes!);
    }

    Row($"cold start, {what}, spawn to Ready in a running host (median of 7)", $"{Stats.Median(starts):0} ms (min {starts.Min():0}, max {starts.Max():0})");
    double Median(Func<WorkerStartTimes, TimeSpan> step) => Stats.Median([.. steps.Select(t => step(t).TotalMilliseconds)]);
    Row($"  of which: handshake line / health probe answered / Describe answered (medians, from spawn)", $"{Median(t => t.Handshake):0.0} / {Median(t => t.Healthy):0.0} / {Median(t => t.Described):0.0} ms");
    Row($"  its first start, beside the host's own start", $"{first:0} ms");
    Row($"idle worker RSS ({what}, fresh)", $"{MiB(rss)} MiB");
}

if (Runs("polyglot"))
{
    await PolyglotAsync();
}

// go-plugin's Python and Node examples measured 516 µs and 327 µs p50 on this machine class, its Go KV example 167 µs.
async Task PolyglotAsync()
{
    foreach (var (manifest, what) in new[] { (BenchHost.Python(), "Python"), (BenchHost.Node(), "Node.js"), (BenchHost.Go(), "Go") })
    {
        await using var host = await BenchHost.StartAsync([manifest]);
        await host.WaitReadyAsync(manifest["id"]!.GetValue<string>());
        await HookLoopAsync(host.Hooks, Input(16), 4, TimeSpan.FromSeconds(3));
        var latencies = await HookLatenciesAsync(host.Hooks, Input(16), 3000);
        Row($"hook round trip to the {what} example, 1 in flight, 16 B body: p50 / p99", $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs");
        var rate = await HookLoopAsync(host.Hooks, Input(16), 16, TimeSpan.FromSeconds(3));
        Row($"hook throughput to the {what} example, 16 in flight", $"{rate:0} calls/s");
    }
}

if (Runs("memory"))
{
    await MemoryLimitAsync();
}

async Task MemoryLimitAsync()
{
    await using (var host = await BenchHost.StartAsync([BenchHost.Test("hog", "memory-hog", new JsonObject { ["memoryMiB"] = 200 })], o => o.MaxRestarts = 0))
    {
        await host.WaitReadyAsync("hog");
        var pid = host.Supervisor("hog").Snapshot.Pid!.Value;
        const long limit = 200L * 1024 * 1024;
        long crossed = 0;
        long lastSeen = 0;
        while (Directory.Exists($"/proc/{pid}") && host.Supervisor("hog").Snapshot.State == WorkerState.Ready)
        {
            lastSeen = Math.Max(lastSeen, ProcessGroups.ReadGroupRss(pid));
            if (crossed == 0 && lastSeen > limit)
            {
                crossed = Stopwatch.GetTimestamp();
            }

            await Task.Delay(2);
        }

        // The bench samples /proc as the watchdog does; a hog that grows fast can be killed between two samples.
        var snapshot = host.Supervisor("hog").Snapshot;
        Row("memory limit crossed to worker killed (watchdog every 250 ms)", crossed != 0
            ? $"{Stopwatch.GetElapsedTime(crossed).TotalMilliseconds:0} ms"
            : $"not seen by the bench: {snapshot.State} ({snapshot.LastError ?? "no error"}) with {lastSeen / (1024 * 1024)} MiB last seen");
        var scan = Stopwatch.GetTimestamp();
        for (var i = 0; i < 100; i++)
        {
            ProcessGroups.ReadGroupRss(Environment.ProcessId);
        }

        Row("one RSS scan of a process group from /proc", $"{Stopwatch.GetElapsedTime(scan).TotalMilliseconds * 10:0} µs");
    }

    DataDirectoryWalks();
}

// What the data-limit watchdog costs a directory's size: one walk every 10 s, stretched
// to keep walking under 1 % of the time for a directory with very many files.
void DataDirectoryWalks()
{
    var root = Directory.CreateTempSubdirectory("gpb-data-").FullName;
    try
    {
        var made = 0;
        foreach (var count in new[] { 1_000, 100_000 })
        {
            for (; made < count; made++)
            {
                var folder = Path.Combine(root, $"d{made % 100}");
                Directory.CreateDirectory(folder);
                File.WriteAllBytes(Path.Combine(folder, $"f{made}"), new byte[100]);
            }

            DirectoryUsage.Measure(root);
            var walks = new List<double>();
            for (var i = 0; i < 7; i++)
            {
                var started = Stopwatch.GetTimestamp();
                DirectoryUsage.Measure(root);
                walks.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            Row($"one measurement of a data directory of {count:N0} files, median of 7", $"{Stats.Median(walks):0.0} ms");
        }
    }
    finally
    {
        Directory.Delete(root, recursive: true);
    }
}

if (Runs("chain"))
{
    await ChainAsync();
}

async Task ChainAsync()
{
    // Chains of 1, 3 and 10 of the same plugin: what one more hop costs. Ten NativeAOT
    // workers last: the same chain with no JIT tiering still under way in ten processes.
    foreach (var (length, native) in new[] { (1, false), (3, false), (10, false), (10, true) })
    {
        if (native && BenchHost.TestAot("chain-0") is null)
        {
            continue; // `make aot` was not run.
        }

        var chainIds = Enumerable.Range(0, length).Select(i => $"chain-{i}").ToList();
        var kind = native ? "NativeAOT" : "JIT";
        // All but the first take only the route id "bench" (the input's): every row below calls
        // them all, but for the last, whose other route id only the first plugin takes.
        await using var host = await BenchHost.StartAsync(chainIds.Select((id, i) =>
        {
            var manifest = native ? BenchHost.TestAot(id)! : BenchHost.Test(id, "normal");
            if (i > 0)
            {
                manifest["hooks"] = new JsonArray(new JsonObject { ["point"] = "request", ["match"] = new JsonObject { ["routeIds"] = new JsonArray("bench") } });
            }

            return manifest;
        }));
        var start = Stopwatch.GetTimestamp();
        foreach (var id in chainIds)
        {
            await host.WaitReadyAsync(id);
        }

        if (length == 10 && !native)
        {
            Row("10 plugins Ready after host start", $"{Stopwatch.GetElapsedTime(start).TotalMilliseconds:0} ms");
        }

        var input = Input(16);
        // JIT workers warm up in turn: give each hop the warm-up one plugin gets.
        await HookLoopAsync(host.Hooks, input, 4, TimeSpan.FromSeconds(Math.Max(4, length * 0.6)));
        var latencies = await HookLatenciesAsync(host.Hooks, input, 2000);
        Row($"hook chain of {length} plugin{(length == 1 ? "" : "s")} ({kind} test plugin), 1 in flight: p50 / p99", $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs");
        if (length == 10)
        {
            var elsewhere = Input(16) with { Context = new HookCallContext("elsewhere") };
            var spared = await HookLatenciesAsync(host.Hooks, elsewhere, 2000);
            Row($"  the same point for a route id the other 9 plugins' match does not take ({kind}): p50 / p99", $"{Stats.Percentile(spared, 50):0} µs / {Stats.Percentile(spared, 99):0} µs");
        }
    }
}

if (Runs("many"))
{
    await ManyAsync();
}

async Task ManyAsync()
{
    // Many plugins at once: NativeAOT workers, so that the figure is the host's and not 100 JIT warm-ups on 2 cores.
    var manyIds = Enumerable.Range(0, 100).Select(i => $"many-{i:000}").ToList();
    if (manyIds.Select(BenchHost.TestAot).ToList() is { } many && many.All(m => m is not null))
    {
        var start = Stopwatch.GetTimestamp();
        var host = await BenchHost.StartAsync(many!, o => o.AdminApiKey = BenchHost.AdminKey);
        await using var disposeOnFailure = host;
        foreach (var id in manyIds)
        {
            await host.WaitReadyAsync(id);
        }

        Row("100 plugins (NativeAOT) Ready after host start", $"{Stopwatch.GetElapsedTime(start).TotalMilliseconds:0} ms");
        long rss = manyIds.Sum(id => ProcessGroups.ReadRss(host.Supervisor(id).Snapshot.Pid!.Value));
        Row("100 idle NativeAOT workers, RSS in total", $"{rss / (1024.0 * 1024):0} MiB");

        // What watching 100 idle workers costs the host: health probes every 5 s, memory every 250 ms.
        // Measured once the host's own JIT has settled (tiering the watch loops took ~40 % of it at first).
        await Task.Delay(TimeSpan.FromSeconds(15));
        var cpuBefore = Load.CpuSeconds(Environment.ProcessId);
        var watched = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(10));
        var share = (Load.CpuSeconds(Environment.ProcessId) - cpuBefore) / Stopwatch.GetElapsedTime(watched).TotalSeconds;
        Row("host CPU while 100 workers idle (health and memory watchdogs)", $"{share * 100:0.0} % of one core");

        // What an admin's dashboard and a metrics scraper read with 100 plugins: every worker's
        // state, memory and limits, and every instrument's series.
        using var admin = host.AdminClient();
        // The exporter keeps a scrape for 300 ms by default, so scrapes are 0.4 s apart: each one is
        // made afresh, as a scraper's every 15 s are.
        foreach (var (what, path, pause) in new[] { ("GET /admin/api/plugins", "/admin/api/plugins", TimeSpan.Zero), ("GET /metrics, 0.4 s apart", "/metrics", TimeSpan.FromMilliseconds(400)) })
        {
            var size = 0;
            async Task ReadAsync() => size = (await admin.GetByteArrayAsync(path)).Length;
            await Load.LatenciesAsync(ReadAsync, 10, pause);
            var reads = await Load.LatenciesAsync(ReadAsync, 40, pause);
            Row($"100 plugins: {what}, 1 at a time: p50 / p99; size", $"{Stats.Percentile(reads, 50) / 1000:0.0} ms / {Stats.Percentile(reads, 99) / 1000:0.0} ms; {size / 1024.0:0} KiB");
        }

        // The host's stop with all of them: each worker asked to shut down (its drain, then exit)
        // at once, as a pod's termination grace period counts it. Every pid must be gone after.
        var pids = manyIds.Select(id => host.Supervisor(id).Snapshot.Pid!.Value).ToList();
        var stopping = Stopwatch.GetTimestamp();
        await host.StopAsync();
        var stopped = Stopwatch.GetElapsedTime(stopping).TotalMilliseconds;
        var left = pids.Count(pid => GrpcPlugins.Supervisor.Processes.ProcStatLine.Read(pid) is { IsEmpty: false } line && !line.Span.StartsWith("Z"));
        Row("100 plugins: the host's stop, from StopAsync to every worker ended", $"{stopped:0} ms, {left} worker(s) left");
    }
}

Console.WriteLine();
Console.WriteLine("| Measure | Result |");
Console.WriteLine("| --- | --- |");
foreach (var (what, value) in rows)
{
    Console.WriteLine($"| {what} | {value} |");
}

static HookInput Input(int size) =>
    new(Encoding.UTF8.GetBytes(new string('a', size)), "text/plain", new Dictionary<string, string>(), new HookCallContext("bench"));

static string MiB(long bytes) => $"{bytes / (1024.0 * 1024):0.0}";

static string Size(int size) => size >= 1024 ? $"{size / 1024} KiB" : $"{size} B";

static Task<List<double>> HookLatenciesAsync(IHookDispatcher hooks, HookInput input, int count) =>
    Load.LatenciesAsync(() => HookAsync(hooks, input), count);

static Task<double> HookLoopAsync(IHookDispatcher hooks, HookInput input, int inFlight, TimeSpan duration) =>
    Load.InFlightAsync(() => HookAsync(hooks, input), inFlight, duration);

static async Task HookAsync(IHookDispatcher hooks, HookInput input)
{
    var outcome = await hooks.DispatchAsync(BenchHost.Request, input);
    if (outcome.Skipped.Count > 0)
    {
        throw new InvalidOperationException($"a hook call failed: {outcome.Skipped[0]}");
    }
}

static async Task<RouteFigures> MeasureRouteAsync(HttpClient http, string path, int? backendPid)
{
    var warmUp = await WarmRoutesAsync(http, path);
    var latencies = (await Load.LatenciesAsync(() => RouteAsync(http, path), 3000))[500..];
    var cpu = await Load.MeasureCpuAsync(() => RouteLoopAsync(http, path, 16, TimeSpan.FromSeconds(3)), backendPid);
    return new RouteFigures(
        $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs (after {warmUp} of warm-up)",
        cpu.Rate,
        $"{cpu.Rate:0} req/s",
        cpu.ToString(),
        cpu.SwitchesPerCall,
        $"{cpu.OwnBytes:0} B");
}

static async Task<string> GrpcLegAsync(BenchHost host, Func<GrpcPlugins.Supervisor.Connection.WorkerConnection, Task> call, int workerPid)
{
    using var lease = host.Supervisor("hello").Lease();
    var connection = lease.Worker!.Connection;
    await Load.InFlightAsync(() => call(connection), 16, TimeSpan.FromSeconds(3));
    var latencies = await Load.LatenciesAsync(() => call(connection), 3000);
    var cpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(() => call(connection), 16, TimeSpan.FromSeconds(3)), workerPid);
    return $"p50 {Stats.Percentile(latencies, 50):0} µs at 1 in flight; {cpu.Rate:0} calls/s, CPU {cpu}, switches {cpu.SwitchesPerCall}, host allocates {cpu.OwnBytes:0} B";
}

// Tiered compilation keeps promoting methods for seconds under load, more of them on
// the longer path: both sides are measured once their rate stops climbing.
static async Task<string> WarmRoutesAsync(HttpClient http, string path)
{
    var start = Stopwatch.GetTimestamp();
    var previous = 0.0;
    while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(30))
    {
        var rate = await RouteLoopAsync(http, path, 4, TimeSpan.FromSeconds(1));
        if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(8) && Math.Abs(rate - previous) < previous * 0.05)
        {
            break;
        }

        previous = rate;
    }

    return $"{Stopwatch.GetElapsedTime(start).TotalSeconds:0} s";
}

static Task<double> RouteLoopAsync(HttpClient http, string path, int inFlight, TimeSpan duration) =>
    Load.InFlightAsync(() => RouteAsync(http, path), inFlight, duration);

static async Task RouteAsync(HttpClient http, string path)
{
    using var response = await http.GetAsync(path);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"route call failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
