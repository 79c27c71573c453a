using System.Text;
using static GrpcPlugins.Benchmarks.HttpCalls;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>What a plugin spinning two threads takes from its host, at two niceness settings.</summary>
internal static class SpinnerSection
{
    // A plugin stuck in a loop on two threads (the test plugin's spin mode), disabled and enabled
    // through the admin API in turn with windows of the host's own endpoint: what a runaway plugin
    // takes from its host at the default niceness and at PluginHost:WorkerNice 10.
    public static async Task RunAsync(Report report)
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
            report.Row($"the host's own endpoint (POST 16 B, 16 in flight) beside a plugin spinning two threads, WorkerNice {nice}: with / without it (medians of 6 windows in turn); ratio", $"{Stats.Median([.. rounds.Select(r => r.A)]):0} / {Stats.Median([.. rounds.Select(r => r.B)]):0} req/s; {Spread([.. rounds.Select(r => r.A / r.B)])}");
        }
    }
}
