using System.Diagnostics;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>100 plugins: start, idle cost, admin reads and the host's stop.</summary>
internal static class ManySection
{
    public static async Task RunAsync(Report report)
    {
        // Many plugins at once: NativeAOT workers, so that the figure is the host's and not 100 JIT warm-ups on 2 cores.
        var manyIds = Enumerable.Range(0, 100).Select(i => $"many-{i:000}").ToList();
        if (manyIds.Select(BenchHost.TestAot).ToList() is { } many && many.All(m => m is not null))
        {
            var start = Stopwatch.GetTimestamp();
            var host = await BenchHost.StartAsync(many!, o => o.AdminApiKey = BenchHost.AdminKey);
            await using var disposeOnFailure = host;
            foreach (var id in manyIds)
            {
                await host.WaitReadyAsync(id);
            }

            report.Row("100 plugins (NativeAOT) Ready after host start", $"{Stopwatch.GetElapsedTime(start).TotalMilliseconds:0} ms");
            long rss = manyIds.Sum(id => ProcessGroups.ReadRss(host.Supervisor(id).Snapshot.Pid!.Value));
            report.Row("100 idle NativeAOT workers, RSS in total", $"{rss / (1024.0 * 1024):0} MiB");
            // RSS counts the pages the workers share (their executable's) once for each: PSS splits them.
            long pss = manyIds.Sum(id => SharedMemory.Read(host.Supervisor(id).Snapshot.Pid!.Value).Pss);
            report.Row("  of which theirs: PSS in total (each shared page split among its processes)", $"{pss / (1024.0 * 1024):0} MiB");

            // What watching 100 idle workers costs the host: health probes every 5 s, memory every 250 ms.
            // Measured once the host's own JIT has settled (tiering the watch loops took ~40 % of it at first).
            await Task.Delay(TimeSpan.FromSeconds(15));
            var cpuBefore = Load.CpuSeconds(Environment.ProcessId);
            var workerPids = manyIds.Select(id => host.Supervisor(id).Snapshot.Pid!.Value).ToList();
            var workersBefore = workerPids.Sum(Load.CpuSeconds);
            var passesBefore = host.ProcSampler.Passes;
            var watched = Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromSeconds(10));
            var seconds = Stopwatch.GetElapsedTime(watched).TotalSeconds;
            var share = (Load.CpuSeconds(Environment.ProcessId) - cpuBefore) / seconds;
            var passesPerSecond = (host.ProcSampler.Passes - passesBefore) / seconds;
            var workersShare = (workerPids.Sum(Load.CpuSeconds) - workersBefore) / seconds;
            report.Row("host CPU while 100 workers idle (health and memory watchdogs)", $"{share * 100:0.0} % of one core");
            report.Row("  the 100 idle workers' own CPU meanwhile, in total", $"{workersShare * 100:0.0} % of one core");

            // Then, read every 100 ms for more than a probe interval (apart from the CPU's window, whose
            // figure the reading would add to): a worker whose probe failed (its timeout is 2 s) shows
            // as Unhealthy until its next probe passes. The probes go out together, a hundred at once.
            var unhealthy = new HashSet<string>();
            var polled = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(polled) < TimeSpan.FromSeconds(6))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
                unhealthy.UnionWith(manyIds.Where(id => host.Supervisor(id).Snapshot.State != WorkerState.Ready));
            }

            report.Row("  workers seen other than Ready in the next 6 s (states read every 100 ms)", unhealthy.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));

            // That share's biggest part: the watchdogs' shared pass, which reads every process on the machine.
            var processes = Directory.EnumerateDirectories("/proc").Count(d => char.IsAsciiDigit(Path.GetFileName(d)[0]));
            var passTimes = new List<double>();
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 50; i++)
            {
                var pass = Stopwatch.GetTimestamp();
                ProcessGroups.ReadAllGroups(host.ProcSampler.Helpers);
                passTimes.Add(Stopwatch.GetElapsedTime(pass).TotalMicroseconds);
            }

            allocated = (GC.GetAllocatedBytesForCurrentThread() - allocated) / passTimes.Count;
            report.Row(
                $"  the watchdogs' pass over /proc ({processes} processes): p50; allocated; passes a second while idle",
                $"{Stats.Percentile(passTimes, 50) / 1000:0.00} ms; {allocated / 1024.0:0} KB; {passesPerSecond:0.0}");

            // What an admin's dashboard and a metrics scraper read with 100 plugins: every worker's
            // state, memory and limits, and every instrument's series.
            using var admin = host.AdminClient();
            // The exporter keeps a scrape for 300 ms by default, so scrapes are 0.4 s apart: each one is
            // made afresh, as a scraper's every 15 s are.
            foreach (var (what, path, pause) in new[] { ("GET /admin/api/plugins", "/admin/api/plugins", TimeSpan.Zero), ("GET /metrics, 0.4 s apart", "/metrics", TimeSpan.FromMilliseconds(400)) })
            {
                var size = 0;
                async Task ReadAsync() => size = (await admin.GetByteArrayAsync(path)).Length;
                await Load.LatenciesAsync(ReadAsync, 10, pause);
                var reads = await Load.LatenciesAsync(ReadAsync, 40, pause);
                report.Row($"100 plugins: {what}, 1 at a time: p50 / p99; size", $"{Stats.Percentile(reads, 50) / 1000:0.0} ms / {Stats.Percentile(reads, 99) / 1000:0.0} ms; {size / 1024.0:0} KiB");
            }

            // The host's stop with all of them: each worker asked to shut down (its drain, then exit)
            // at once, as a pod's termination grace period counts it. Every pid must be gone after.
            var pids = manyIds.Select(id => host.Supervisor(id).Snapshot.Pid!.Value).ToList();
            var stopping = Stopwatch.GetTimestamp();
            await host.StopAsync();
            var stopped = Stopwatch.GetElapsedTime(stopping).TotalMilliseconds;
            var left = pids.Count(pid => GrpcPlugins.Supervisor.Processes.ProcStatLine.Read(pid) is { IsEmpty: false } line && !line.Span.StartsWith("Z"));
            report.Row("100 plugins: the host's stop, from StopAsync to every worker ended", $"{stopped:0} ms, {left} worker(s) left");
        }
    }
}
