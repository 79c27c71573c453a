using static GrpcPlugins.Benchmarks.HookCalls;
using static GrpcPlugins.Benchmarks.HttpCalls;
using static GrpcPlugins.Benchmarks.Units;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>A minute of routes and hooks, then a minute with the worker killed every 10 s: what the host keeps.</summary>
internal static class SoakSection
{
    // Routes and hooks to hello for a minute, 8 of each in flight: what the host and the worker hold
    // after the first round and after the last, each time after a full collection.
    public static async Task RunAsync(Report report)
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
        report.Row($"soak: routes and hooks to hello, 8 + 8 in flight for 60 s ({samples[^1].Calls} calls): bench process (client + host) managed heap after a full collection, every 10 s", $"{Each(s => MiB(s.ManagedBytes))} MiB");
        report.Row("  bench process file descriptors; threads, every 10 s", $"{Each(s => s.Descriptors.ToString(System.Globalization.CultureInfo.InvariantCulture))}; {Each(s => s.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        report.Row("  worker RSS; file descriptors, every 10 s", $"{Each(s => MiB(s.WorkerRss))} MiB; {Each(s => s.WorkerDescriptors.ToString(System.Globalization.CultureInfo.InvariantCulture))}");

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
        report.Row("soak with the worker killed (SIGKILL) as each 10 s round begins, 8 + 8 in flight: kill to the last failed call, each kill (the backoff doubles from 200 ms)", $"{EachOutage(o => $"{o.Gap.TotalMilliseconds:0}")} ms");
        report.Row("  failed calls per kill, routes; hooks (a failed caller waits 1 ms)", $"{EachOutage(o => o.RouteFailures.ToString(System.Globalization.CultureInfo.InvariantCulture))}; {EachOutage(o => o.HookFailures.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        report.Row("  bench process managed heap after a full collection; file descriptors; threads, after each round", $"{string.Join(", ", afterKills.Select(s => MiB(s.ManagedBytes)))} MiB; {string.Join(", ", afterKills.Select(s => s.Descriptors))}; {string.Join(", ", afterKills.Select(s => s.Threads))}");
    }
}
