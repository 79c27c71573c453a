using static GrpcPlugins.Benchmarks.HookCalls;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>Hook calls to the Python, Node.js and Go examples.</summary>
internal static class PolyglotSection
{
    // go-plugin's Python and Node examples measured 516 µs and 327 µs p50 on this machine class, its Go KV example 167 µs.
    public static async Task RunAsync(Report report)
    {
        foreach (var (manifest, what) in new[] { (BenchHost.Python(), "Python"), (BenchHost.Node(), "Node.js"), (BenchHost.Go(), "Go") })
        {
            await using var host = await BenchHost.StartAsync([manifest]);
            await host.WaitReadyAsync(manifest["id"]!.GetValue<string>());
            await HookLoopAsync(host.Hooks, Input(16), 4, TimeSpan.FromSeconds(3));
            var latencies = await HookLatenciesAsync(host.Hooks, Input(16), 3000);
            report.Row($"hook round trip to the {what} example, 1 in flight, 16 B body: p50 / p99", $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs");
            var rate = await HookLoopAsync(host.Hooks, Input(16), 16, TimeSpan.FromSeconds(3));
            report.Row($"hook throughput to the {what} example, 16 in flight", $"{rate:0} calls/s");
        }
    }
}
