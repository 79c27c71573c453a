using System.Text;
using static GrpcPlugins.Benchmarks.HttpCalls;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>The host's own endpoint bare and through two hook points.</summary>
internal static class EndpointSection
{
    // An application endpoint of the host's own, bare and run through a request and a response
    // hook point (WithPluginHooks, hello at both), taken in turn: what the two points cost it.
    public static async Task RunAsync(Report report, BenchHost host)
    {
        using var http = new HttpClient { BaseAddress = host.Address };
        var body = Encoding.UTF8.GetBytes("0123456789abcdef");
        Task Post(string path) => PostAsync(http, path, body);
        await Load.InFlightAsync(() => Post(BenchHost.EchoPath), 4, TimeSpan.FromSeconds(4));
        await Load.InFlightAsync(() => Post(BenchHost.HookedEchoPath), 4, TimeSpan.FromSeconds(6));
        var rounds = await AlternatingAsync(() => Post(BenchHost.HookedEchoPath), () => Post(BenchHost.EchoPath));
        var bare = (Rate: Stats.Median([.. rounds.Select(r => r.B.Rate)]), P50: Stats.Median([.. rounds.Select(r => r.B.P50)]));
        var hooked = (Rate: Stats.Median([.. rounds.Select(r => r.A.Rate)]), P50: Stats.Median([.. rounds.Select(r => r.A.P50)]));
        report.Row("application endpoint, POST 16 B, bare: p50 at 1 in flight / rate at 16 (medians of 8 windows)", $"{bare.P50:0} µs / {bare.Rate:0} req/s");
        report.Row("the same through a request and a response hook point (WithPluginHooks, hello)", $"{hooked.P50:0} µs / {hooked.Rate:0} req/s");
        report.Row("  the two points add at p50 (median of the rounds' differences) / rate ratio", $"{Stats.Median([.. rounds.Select(r => r.A.P50 - r.B.P50)]):0} µs / {Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)])}");
    }
}
