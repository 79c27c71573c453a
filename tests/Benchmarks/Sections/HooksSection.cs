using static GrpcPlugins.Benchmarks.HookCalls;
using static GrpcPlugins.Benchmarks.Units;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>Hook calls to hello through the real dispatcher: latency by body size, after idle, the floor beside them, throughput by calls in flight, CPU a call.</summary>
internal static class HooksSection
{
    public static async Task RunAsync(Report report, BenchHost host)
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
            report.Row($"hook round trip, 1 in flight, {Size(size)} body: p50 / p99", $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs");
        }

        // Traffic with pauses: after 10 ms without a call, every thread on the path has gone to
        // sleep and the caches have cooled. The floor beside it, in the same run: one byte to a
        // child process and back on blocking threads.
        var idle = await Load.LatenciesAsync(() => HookAsync(host.Hooks, Input(16)), 500, TimeSpan.FromMilliseconds(10));

        report.Row("hook round trip, 1 in flight, 16 B body, each after 10 ms idle: p50 / p99", $"{Stats.Percentile(idle, 50):0} µs / {Stats.Percentile(idle, 99):0} µs");
        var floor = PingPong.Measure([TimeSpan.Zero, TimeSpan.FromMilliseconds(10)], 500);
        report.Row("the floor: 1 byte to a child process and back (Unix socket), back to back / after 10 ms idle: p50", $"{Stats.Percentile(floor[0], 50):0} µs / {Stats.Percentile(floor[1], 50):0} µs");

        foreach (var inFlight in new[] { 1, 4, 16, 64 })
        {
            var rates = new List<string>();
            foreach (var size in new[] { 0, 1024, 64 * 1024 })
            {
                rates.Add($"{await HookLoopAsync(host.Hooks, Input(size), inFlight, TimeSpan.FromSeconds(size > 1024 ? 2 : 3)):0}");
            }

            report.Row($"hook throughput, {inFlight} in flight, 0 B / 1 KiB / 64 KiB body", $"{string.Join(" / ", rates)} calls/s");
        }

        var smallRate = await HookLoopAsync(host.Hooks, Input(16), 16, TimeSpan.FromSeconds(3));
        report.Row("hook throughput, 16 in flight, 16 B body", $"{smallRate:0} calls/s");

        // What a hook call costs each side, and what the host's dispatcher and client allocate for it.
        var cpu = await Load.MeasureCpuAsync(() => HookLoopAsync(host.Hooks, Input(16), 16, TimeSpan.FromSeconds(3)), host.Supervisor("hello").Snapshot.Pid!.Value);
        report.Row("hook CPU per call, 16 in flight, 16 B body: host + worker", $"{cpu}; the host allocates {cpu.OwnBytes:0} B a call");
    }
}
