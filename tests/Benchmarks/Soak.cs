using System.Diagnostics;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// A host serving routes and hooks for a minute: whether what it holds stays flat while the
/// calls go by (a gateway runs for weeks). Sampled after each round, once a full collection
/// has run, so that a figure that grows is kept memory, not garbage not yet collected.
/// </summary>
internal static class Soak
{
    /// <summary>What the bench process (client and host) and the worker held after one round.</summary>
    public sealed record Sample(long Calls, long ManagedBytes, int Descriptors, int Threads, long WorkerRss, int WorkerDescriptors);

    /// <summary>
    /// Runs <paramref name="route"/> and <paramref name="hook"/> at <paramref name="inFlight"/> each
    /// for <paramref name="rounds"/> rounds of <paramref name="round"/>, sampling after each.
    /// </summary>
    public static async Task<List<Sample>> RunAsync(Func<Task> route, Func<Task> hook, int workerPid, int inFlight, int rounds, TimeSpan round)
    {
        var samples = new List<Sample>(rounds);
        long calls = 0;
        for (var i = 0; i < rounds; i++)
        {
            calls += await RoundAsync(route, hook, inFlight, round);
            samples.Add(Take(calls, workerPid));
        }

        return samples;
    }

    /// <summary>What one kill of the worker cost the callers: their failed calls, and how long from the kill to the last.</summary>
    public sealed record Outage(int RouteFailures, int HookFailures, TimeSpan Gap);

    /// <summary>
    /// The same load, with the worker's process group killed (SIGKILL) as each round begins. A
    /// failed call is counted and its caller waits a millisecond before the next, as a client
    /// backing off would, so the counts say how many calls met the gap, not how fast a loop spins.
    /// </summary>
    public static async Task<(List<Outage> Outages, List<Sample> Samples)> WithKillsAsync(
        Func<Task> route, Func<Task> hook, Func<Task<int>> readyWorkerPid, int inFlight, int rounds, TimeSpan round)
    {
        var outages = new List<Outage>(rounds);
        var samples = new List<Sample>(rounds);
        long calls = 0;
        for (var i = 0; i < rounds; i++)
        {
            var pid = await readyWorkerPid();
            var killed = Stopwatch.GetTimestamp();
            long lastFailure = killed;
            int routeFailures = 0, hookFailures = 0;
            Func<Task> Counted(Func<Task> call, Action failed) => async () =>
            {
                try
                {
                    await call();
                }
                catch (Exception)
                {
                    failed();
                    Interlocked.Exchange(ref lastFailure, Stopwatch.GetTimestamp());
                    await Task.Delay(1);
                }
            };

            ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
            calls += await RoundAsync(Counted(route, () => Interlocked.Increment(ref routeFailures)), Counted(hook, () => Interlocked.Increment(ref hookFailures)), inFlight, round);
            outages.Add(new Outage(routeFailures, hookFailures, Stopwatch.GetElapsedTime(killed, Interlocked.Read(ref lastFailure))));
            samples.Add(Take(calls, await readyWorkerPid()));
        }

        return (outages, samples);
    }

    /// <summary>One round: both loads at once; how many calls they made.</summary>
    private static async Task<long> RoundAsync(Func<Task> route, Func<Task> hook, int inFlight, TimeSpan round)
    {
        var rates = await Task.WhenAll(Load.InFlightAsync(route, inFlight, round), Load.InFlightAsync(hook, inFlight, round));
        return (long)(rates.Sum() * round.TotalSeconds);
    }

    private static Sample Take(long calls, int workerPid)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return new Sample(
            calls,
            GC.GetTotalMemory(forceFullCollection: false),
            Descriptors(Environment.ProcessId),
            Threads(Environment.ProcessId),
            ProcessGroups.ReadRss(workerPid),
            Descriptors(workerPid));
    }

    private static int Descriptors(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    private static int Threads(int pid) => Directory.GetDirectories($"/proc/{pid}/task").Length;
}
