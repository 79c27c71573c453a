using GrpcPlugins.Supervisor.Limits;

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
            var rates = await Task.WhenAll(Load.InFlightAsync(route, inFlight, round), Load.InFlightAsync(hook, inFlight, round));
            calls += (long)(rates.Sum() * round.TotalSeconds);
            samples.Add(Take(calls, workerPid));
        }

        return samples;
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
