using System.Text;
using static GrpcPlugins.Benchmarks.HttpCalls;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>A worker setting against the default, two hosts taken in turn (a tool, run with ONLY=ab).</summary>
internal static class AbSection
{
    // Two hosts in one run, B's workers started with BENCH_AB_WORKER_ENV ("NAME=value;...") and
    // BENCH_AB_WORKER_NICE, taken in turn: a worker setting judged against the default under the
    // same drift of this noisy machine, which two runs minutes apart cannot do.
    public static async Task RunAsync(Report report)
    {
        var bEnvironment = BenchHost.EnvironmentPairs("BENCH_AB_WORKER_ENV").ToList();
        int? bNice = int.TryParse(Environment.GetEnvironmentVariable("BENCH_AB_WORKER_NICE"), out var nice) ? nice : null;
        report.Row("A/B: B's workers", $"environment {(bEnvironment.Count > 0 ? string.Join(";", bEnvironment.Select(p => $"{p.Key}={p.Value}")) : "as A's")}, niceness {bNice?.ToString() ?? "as A's"}");
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
        report.Row("A/B: route GET /plugins/hello/ping, B / A (8 rounds in turn): rate at 16 in flight; p50 at 1", $"{Spread([.. routes.Select(r => r.A.Rate / r.B.Rate)])}; {Spread([.. routes.Select(r => r.A.P50 / r.B.P50)])}");

        var body = Encoding.UTF8.GetBytes("0123456789abcdef");
        var hooked = await AlternatingAsync(() => PostAsync(httpB, BenchHost.HookedEchoPath, body), () => PostAsync(httpA, BenchHost.HookedEchoPath, body));
        report.Row("A/B: endpoint through two hook points, B / A (8 rounds in turn): rate at 16 in flight; p50 at 1", $"{Spread([.. hooked.Select(r => r.A.Rate / r.B.Rate)])}; {Spread([.. hooked.Select(r => r.A.P50 / r.B.P50)])}");

        // The sporadic call: every thread on both sides asleep, as in a gateway with light traffic.
        var request = new GrpcPlugins.Protocol.V1.HookRequest { Point = "request", Body = Google.Protobuf.ByteString.CopyFrom(body) };
        Task<List<double>> AfterPauseAsync(BenchHost host) =>
            Load.LatenciesAsync(async () => await host.Supervisor("hello").ReadyWorker!.Connection.Plugin.InvokeHookAsync(request), 300, TimeSpan.FromMilliseconds(1));
        var paused = await InTurnAsync(async () => Stats.Median(await AfterPauseAsync(b)), async () => Stats.Median(await AfterPauseAsync(a)), 6);
        report.Row("A/B: hook call after a 1 ms pause, p50 (medians of 6 rounds in turn): A / B; B / A", $"{Stats.Median([.. paused.Select(r => r.B)]):0} / {Stats.Median([.. paused.Select(r => r.A)]):0} µs; {Spread([.. paused.Select(r => r.A / r.B)])}");
    }
}
