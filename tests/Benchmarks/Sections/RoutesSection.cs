using static GrpcPlugins.Benchmarks.HttpCalls;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>
/// Issue 8's route target: a plugin route through the host against YARP proxying the same
/// handler to a Kestrel backend in a process of its own, as a plugin is, in the same run.
/// </summary>
internal static class RoutesSection
{
    public static async Task RunAsync(Report report, BenchHost host)
    {
        using var http = new HttpClient { BaseAddress = host.Address };
        var ours = await MeasureRouteAsync(http, "/plugins/hello/ping", host.Supervisor("hello").Snapshot.Pid!.Value);
        report.Row("route GET /plugins/hello/ping through the host, 1 in flight: p50 / p99", ours.Latency);
        report.Row("route throughput, 16 in flight (HTTP/1.1 client on loopback)", ours.Throughput);
        report.Row("route CPU per request: bench process (client + host) + worker", ours.Cpu);
        report.Row("route context switches per request: bench process / worker", ours.Switches);
        report.Row("route bytes allocated per request in the bench process (client + host)", ours.Allocated);

        await using var yarp = await YarpBaseline.StartAsync(backendInOwnProcess: true);
        using var yarpHttp = new HttpClient { BaseAddress = yarp.Address };
        var theirs = await MeasureRouteAsync(yarpHttp, "/yarp/ping", yarp.BackendPid);
        theirs.AddTo(report, "YARP to Kestrel on a Unix socket, backend in its own process, 1 in flight: p50 / p99", "YARP, backend in its own process");
        report.Row("route throughput ratio, host / YARP (own process)", $"{ours.Rate / theirs.Rate:0.00}");
        var (rate, latency) = await AlternatingRatiosAsync(http, "/plugins/hello/ping", yarpHttp, "/yarp/ping");
        report.Row("route throughput ratio, host / YARP (own process), 2 s windows taken in turn ×8: median (min–max)", rate);
        report.Row("route latency ratio, host / YARP (own process), p50 of 400 calls at 1 in flight taken in turn ×8: median (min–max)", latency);

        // Sporadic traffic, as a gateway mostly sees: every thread on either path has gone to sleep
        // before each request, so each hand-off wakes one (hooks have the same row).
        var idle = await InTurnAsync(
            async () => Stats.Median(await Load.LatenciesAsync(() => RouteAsync(http, "/plugins/hello/ping"), 150, TimeSpan.FromMilliseconds(10))),
            async () => Stats.Median(await Load.LatenciesAsync(() => RouteAsync(yarpHttp, "/yarp/ping"), 150, TimeSpan.FromMilliseconds(10))),
            4);
        report.Row(
            "route latency after 10 ms idle, host / YARP (own process): p50 of 150 calls taken in turn ×4, medians; ratio median (min–max)",
            $"{Stats.Median([.. idle.Select(r => r.A)]):0} µs / {Stats.Median([.. idle.Select(r => r.B)]):0} µs; {Spread([.. idle.Select(r => r.A / r.B)])}");
    }
}
