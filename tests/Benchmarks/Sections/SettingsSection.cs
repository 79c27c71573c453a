using System.Text;
using System.Text.Json.Nodes;
using static GrpcPlugins.Benchmarks.HookCalls;
using static GrpcPlugins.Benchmarks.HttpCalls;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>Settings read by a plugin during a call, written by an admin, and written in a storm.</summary>
internal static class SettingsSection
{
    // The settings paths across the contract: a plugin reading its settings from the host during a
    // call (the PluginHost service, over the host's own socket), and an admin's write (validated
    // against the schema, offered to the plugin through Configure, committed to the SQLite store).
    public static async Task RunAsync(Report report)
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
        report.Row("settings read by a plugin during a route (PluginHost.GetSettings): p50 it adds at 1 in flight (median of 8 rounds' differences) / rate ratio at 16", $"{Stats.Median([.. rounds.Select(r => r.A.P50 - r.B.P50)]):0} µs / {Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)])}");

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
        report.Row("settings write through the admin API (schema, Configure in the worker, SQLite commit): p50 / p99 one at a time; writes/s with 4 in flight (one plugin's writes take turns)", $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs; {rate:0} writes/s");

        // A plugin writing its settings from 64 tasks at once (per-request state kept in settings, a
        // bug), and what that does to everyone else: another plugin's hook calls, before and during.
        var point = BenchHost.Request with { Name = "quiet" };
        var quiet = await Load.LatenciesAsync(() => host.Hooks.DispatchAsync(point, Input(16)).AsTask(), 300);
        var storming = http.PostAsync("/plugins/storm/settings-storm?writers=64&ms=6000", null);
        await Task.Delay(1000);
        var stormed = await Load.LatenciesAsync(() => host.Hooks.DispatchAsync(point, Input(16)).AsTask(), 200);
        using var stormAnswer = await storming;
        var written = await stormAnswer.Content.ReadAsStringAsync();
        report.Row("another plugin's hook round trip while one plugin writes its settings from 64 tasks: p50 / p99 (quiet p50); the storm's writes", $"{Stats.Percentile(stormed, 50) / 1000:0.0} ms / {Stats.Percentile(stormed, 99) / 1000:0.0} ms ({Stats.Percentile(quiet, 50):0} µs); {written} in 6 s");
    }
}
