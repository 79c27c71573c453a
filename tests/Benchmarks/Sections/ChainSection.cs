using System.Diagnostics;
using System.Text.Json.Nodes;
using GrpcPlugins.Host.Hooks;
using static GrpcPlugins.Benchmarks.HookCalls;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>Chains of 1, 3 and 10 hook plugins.</summary>
internal static class ChainSection
{
    public static async Task RunAsync(Report report)
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
                report.Row("10 plugins Ready after host start", $"{Stopwatch.GetElapsedTime(start).TotalMilliseconds:0} ms");
            }

            var input = Input(16);
            // JIT workers warm up in turn: give each hop the warm-up one plugin gets.
            await HookLoopAsync(host.Hooks, input, 4, TimeSpan.FromSeconds(Math.Max(4, length * 0.6)));
            var latencies = await HookLatenciesAsync(host.Hooks, input, 2000);
            report.Row($"hook chain of {length} plugin{(length == 1 ? "" : "s")} ({kind} test plugin), 1 in flight: p50 / p99", $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs");
            if (length == 10)
            {
                var elsewhere = Input(16) with { Context = new HookCallContext("elsewhere") };
                var spared = await HookLatenciesAsync(host.Hooks, elsewhere, 2000);
                report.Row($"  the same point for a route id the other 9 plugins' match does not take ({kind}): p50 / p99", $"{Stats.Percentile(spared, 50):0} µs / {Stats.Percentile(spared, 99):0} µs");
            }
        }
    }
}
