using System.Diagnostics;
using System.Text.Json.Nodes;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>The memory and data-directory watchdogs: how soon a hog is killed, what a measurement costs.</summary>
internal static class MemorySection
{
    public static async Task RunAsync(Report report)
    {
        await using (var host = await BenchHost.StartAsync([BenchHost.Test("hog", "memory-hog", new JsonObject { ["memoryMiB"] = 200 })], o => o.MaxRestarts = 0))
        {
            await host.WaitReadyAsync("hog");
            var pid = host.Supervisor("hog").Snapshot.Pid!.Value;
            const long limit = 200L * 1024 * 1024;
            long crossed = 0;
            long lastSeen = 0;
            while (Directory.Exists($"/proc/{pid}") && host.Supervisor("hog").Snapshot.State == WorkerState.Ready)
            {
                lastSeen = Math.Max(lastSeen, ProcessGroups.ReadGroupRss(pid));
                if (crossed == 0 && lastSeen > limit)
                {
                    crossed = Stopwatch.GetTimestamp();
                }

                await Task.Delay(2);
            }

            // The bench samples /proc as the watchdog does; a hog that grows fast can be killed between two samples.
            var snapshot = host.Supervisor("hog").Snapshot;
            report.Row("memory limit crossed to worker killed (watchdog every 250 ms)", crossed != 0
                ? $"{Stopwatch.GetElapsedTime(crossed).TotalMilliseconds:0} ms"
                : $"not seen by the bench: {snapshot.State} ({snapshot.LastError ?? "no error"}) with {lastSeen / (1024 * 1024)} MiB last seen");
            var scan = Stopwatch.GetTimestamp();
            for (var i = 0; i < 100; i++)
            {
                ProcessGroups.ReadGroupRss(Environment.ProcessId);
            }

            report.Row("one RSS scan of a process group from /proc", $"{Stopwatch.GetElapsedTime(scan).TotalMilliseconds * 10:0} µs");
        }

        DataDirectoryWalks(report);
    }

    // What the data-limit watchdog costs a directory's size: one walk every 10 s, stretched
    // to keep walking under 1 % of the time for a directory with very many files.
    private static void DataDirectoryWalks(Report report)
    {
        var root = Directory.CreateTempSubdirectory("gpb-data-").FullName;
        try
        {
            var made = 0;
            foreach (var count in new[] { 1_000, 100_000 })
            {
                for (; made < count; made++)
                {
                    var folder = Path.Combine(root, $"d{made % 100}");
                    Directory.CreateDirectory(folder);
                    File.WriteAllBytes(Path.Combine(folder, $"f{made}"), new byte[100]);
                }

                DirectoryUsage.Measure(root);
                var walks = new List<double>();
                for (var i = 0; i < 7; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    DirectoryUsage.Measure(root);
                    walks.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }

                report.Row($"one measurement of a data directory of {count:N0} files, median of 7", $"{Stats.Median(walks):0.0} ms");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
