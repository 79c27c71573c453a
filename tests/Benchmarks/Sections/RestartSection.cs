using System.Diagnostics;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>A worker killed with SIGKILL to Ready again.</summary>
internal static class RestartSection
{
    public static async Task RunAsync(Report report)
    {
        // Ready for a second counts as stable here, so that every kill meets the first
        // backoff step, as a worker that has run for a while does (the default is 60 s).
        await using var host = await BenchHost.StartAsync([BenchHost.Hello("hello")], o =>
        {
            o.RestartStablePeriod = TimeSpan.FromSeconds(1);
            o.MaxRestarts = 100;
        });
        await host.WaitReadyAsync("hello");
        var supervisor = host.Supervisor("hello");
        var firstStart = host.SpawnToReady("hello").TotalMilliseconds;

        var seen = new List<(WorkerState State, long At)>();
        supervisor.StateChanged += snapshot =>
        {
            lock (seen)
            {
                seen.Add((snapshot.State, Stopwatch.GetTimestamp()));
            }
        };

        var total = new List<double>();
        var toExit = new List<double>();
        var backoff = new List<double>();
        var toReady = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(1500);
            lock (seen)
            {
                seen.Clear();
            }

            var pid = supervisor.Snapshot.Pid!.Value;
            var start = Stopwatch.GetTimestamp();
            ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
            while (supervisor.Snapshot.State != WorkerState.Ready || supervisor.Snapshot.Pid == pid)
            {
                await Task.Delay(1);
            }

            total.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);

            // The snapshot says Ready a moment before its StateChanged handler has run.
            while (!HasSeen(WorkerState.Ready))
            {
                await Task.Delay(1);
            }

            lock (seen)
            {
                long At(WorkerState state) => seen.First(s => s.State == state).At;
                double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
                toExit.Add(Ms(start, At(WorkerState.Crashed)));
                backoff.Add(Ms(At(WorkerState.Crashed), At(WorkerState.Starting)));
                toReady.Add(Ms(At(WorkerState.Starting), At(WorkerState.Ready)));
            }
        }

        bool HasSeen(WorkerState state)
        {
            lock (seen)
            {
                return seen.Any(s => s.State == state);
            }
        }

        report.Row("kill -9 of the worker to Ready again (median of 5, first backoff step 200 ms ±20 %)", $"{Stats.Median(total):0} ms (min {total.Min():0}, max {total.Max():0})");
        report.Row("  of which: exit seen / backoff / spawn to Ready (medians)", $"{Stats.Median(toExit):0} ms / {Stats.Median(backoff):0} ms / {Stats.Median(toReady):0} ms");
        report.Row("  the same worker's first start, spawn to Ready", $"{firstStart:0} ms");
    }
}
