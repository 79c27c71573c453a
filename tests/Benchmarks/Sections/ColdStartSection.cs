using System.Text.Json.Nodes;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Supervision;
using GrpcPlugins.Supervisor.Workers;
using static GrpcPlugins.Benchmarks.Units;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>Spawn to Ready for every kind of plugin, and each one's idle memory.</summary>
internal static class ColdStartSection
{
    public static async Task RunAsync(Report report)
    {
        await ColdStartAsync(report, BenchHost.Test("cold", "normal"), "JIT plugin (own command)");
        foreach (var (folder, what) in new[] { ("testplugin", "JIT plugin published ReadyToRun"), ("testplugin-trimmed", "JIT plugin, self-contained and trimmed (composite ReadyToRun)") })
        {
            if (BenchHost.TestReadyToRun("cold", folder) is { } readyToRun)
            {
                await ColdStartAsync(report, readyToRun, what);
            }
        }

        // The hello example as `make run` starts it: an assembly loaded by PluginWorker, built, then published ReadyToRun.
        await ColdStartAsync(report, BenchHost.Hello("hello"), "hello under PluginWorker (build output)");
        if (BenchHost.PluginWorkerReadyToRun() is { } worker)
        {
            await ColdStartAsync(report, BenchHost.Hello("hello"), "hello under PluginWorker published ReadyToRun", o => o.WorkerPath = worker);
        }

        if (BenchHost.HelloAot() is { } aot)
        {
            await ColdStartAsync(report, aot, "NativeAOT hello");
        }

        await ColdStartAsync(report, BenchHost.Python(), "Python example");
        await ColdStartAsync(report, BenchHost.Node(), "Node.js example");
        // go-plugin's own Go plugin: 7-8 ms spawn to first call on this machine class (issue 8).
        await ColdStartAsync(report, BenchHost.Go(), "Go example (grpc-go)");
    }

    private static async Task ColdStartAsync(Report report, JsonObject manifest, string what, Action<GrpcPlugins.Host.Hosting.PluginHostOptions>? configure = null)
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
        var own = (Pss: 0L, Private: 0L);
        for (var i = 0; i < 7; i++)
        {
            await Task.Delay(500);
            var pid = supervisor.Snapshot.Pid!.Value;
            rss = ProcessGroups.ReadRss(pid);
            own = SharedMemory.Read(pid);
            supervisor.RequestRestart();
            while (supervisor.Snapshot.State != WorkerState.Ready || supervisor.Snapshot.Pid == pid)
            {
                await Task.Delay(1);
            }

            starts.Add(host.SpawnToReady(id).TotalMilliseconds);
            steps.Add(supervisor.ReadyWorker!.StartTimes!);
        }

        report.Row($"cold start, {what}, spawn to Ready in a running host (median of 7)", $"{Stats.Median(starts):0} ms (min {starts.Min():0}, max {starts.Max():0})");
        double Median(Func<WorkerStartTimes, TimeSpan> step) => Stats.Median([.. steps.Select(t => step(t).TotalMilliseconds)]);
        report.Row($"  of which: handshake line / health probe answered / Describe answered (medians, from spawn)", $"{Median(t => t.Handshake):0.0} / {Median(t => t.Healthy):0.0} / {Median(t => t.Described):0.0} ms");
        report.Row($"  its first start, beside the host's own start", $"{first:0} ms");
        report.Row($"idle worker RSS ({what}, fresh)", $"{MiB(rss)} MiB");
        report.Row($"  of which its own: PSS (each shared page split among its processes, the host's included) / private pages", $"{MiB(own.Pss)} / {MiB(own.Private)} MiB");
    }
}
