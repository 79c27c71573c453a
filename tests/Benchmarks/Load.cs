using System.Diagnostics;
using System.Globalization;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// The bench's one way to load a path: calls kept in flight until a deadline, calls one
/// at a time for their latencies, and the CPU each call cost this process and one other.
/// </summary>
internal static class Load
{
    /// <summary>Keeps <paramref name="inFlight"/> calls going for <paramref name="duration"/>; returns calls per second.</summary>
    public static async Task<double> InFlightAsync(Func<Task> call, int inFlight, TimeSpan duration)
    {
        long calls = 0;
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                await call();
                Interlocked.Increment(ref calls);
            }
        }));
        return calls / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>
    /// Makes <paramref name="count"/> calls one after another, each after <paramref name="pause"/>
    /// without one (none by default); returns each one's time in µs.
    /// </summary>
    public static async Task<List<double>> LatenciesAsync(Func<Task> call, int count, TimeSpan pause = default)
    {
        var samples = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            if (pause > TimeSpan.Zero)
            {
                // A blocking sleep, as an idle caller's thread would be: no timer wakes another thread.
                Thread.Sleep(pause);
            }

            var start = Stopwatch.GetTimestamp();
            await call();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        return samples;
    }

    /// <summary>
    /// Runs <paramref name="loop"/> (which returns calls per second) and charges the CPU time
    /// of this process and of <paramref name="otherPid"/>, and this process's allocations, to its calls.
    /// </summary>
    public static async Task<CpuPerCall> MeasureCpuAsync(Func<Task<double>> loop, int? otherPid)
    {
        var ownBefore = CpuSeconds(Environment.ProcessId);
        var otherBefore = otherPid is { } before ? CpuSeconds(before) : 0;
        var ownSwitchesBefore = ContextSwitches(Environment.ProcessId);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var otherSwitchesBefore = otherPid is { } pid ? ContextSwitches(pid) : [];
        var started = Stopwatch.GetTimestamp();
        var rate = await loop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var calls = rate * Stopwatch.GetElapsedTime(started).TotalSeconds;
        var own = (CpuSeconds(Environment.ProcessId) - ownBefore) / calls * 1e6;
        var other = otherPid is { } after ? (CpuSeconds(after) - otherBefore) / calls * 1e6 : (double?)null;
        var ownSwitches = ContextSwitchesSince(Environment.ProcessId, ownSwitchesBefore);
        var otherSwitches = otherPid is { } again ? ContextSwitchesSince(again, otherSwitchesBefore) : default;
        return new CpuPerCall(rate, own, other, ownSwitches / calls, otherPid is null ? null : otherSwitches / calls, allocated / calls);
    }

    /// <summary>
    /// Voluntary (a thread slept: a hop that found no thread awake) and involuntary (preempted or
    /// yielded while spinning) context switches of the threads of <paramref name="pid"/> between
    /// <paramref name="before"/> and now. Counted thread by thread: a thread pool thread that
    /// retires takes its count with it, so a plain sum of two snapshots can go negative; a thread
    /// that ended inside the window is left out (an undercount, never a negative).
    /// </summary>
    public static Switches ContextSwitchesSince(int pid, IReadOnlyDictionary<int, Switches> before)
    {
        var total = default(Switches);
        foreach (var (thread, now) in ContextSwitches(pid))
        {
            total += now - before.GetValueOrDefault(thread);
        }

        return total;
    }

    /// <summary>Context switches so far, thread by thread.</summary>
    public static Dictionary<int, Switches> ContextSwitches(int pid)
    {
        var threads = new Dictionary<int, Switches>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            long voluntary = 0, involuntary = 0;
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        voluntary = long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        involuntary = long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // A thread that ended between the listing and the read: its switches are gone either way.
                continue;
            }

            threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = new Switches(voluntary, involuntary);
        }

        return threads;
    }

    /// <summary>utime + stime from /proc/PID/stat, in clock ticks of 10 ms.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}

/// <summary>Context switches of a process's threads: voluntary (slept) and involuntary.</summary>
internal readonly record struct Switches(double Voluntary, double Involuntary)
{
    public static Switches operator -(Switches a, Switches b) => new(a.Voluntary - b.Voluntary, a.Involuntary - b.Involuntary);

    public static Switches operator +(Switches a, Switches b) => new(a.Voluntary + b.Voluntary, a.Involuntary + b.Involuntary);

    public static Switches operator /(Switches a, double calls) => new(a.Voluntary / calls, a.Involuntary / calls);

    public override string ToString() => $"{Voluntary:0.0} vol. + {Involuntary:0.0} invol.";
}

/// <summary>
/// A loop's rate, and the CPU and context switches per call of the bench process and, when
/// measured, the other process; and the bytes the bench process allocated per call.
/// </summary>
internal sealed record CpuPerCall(double Rate, double Own, double? Other, Switches OwnSwitches, Switches? OtherSwitches, double OwnBytes)
{
    public override string ToString() => Other is { } other ? $"{Own:0} µs + {other:0} µs = {Own + other:0} µs" : $"{Own:0} µs";

    /// <summary>The CPU per MiB moved, for calls that each move <paramref name="bytesPerCall"/>.</summary>
    public string PerMiB(long bytesPerCall)
    {
        var calls = bytesPerCall / (1024.0 * 1024);
        return Other is { } other ? $"{Own / calls:0} µs + {other / calls:0} µs = {(Own + other) / calls:0} µs" : $"{Own / calls:0} µs";
    }

    /// <summary>Context switches per call, this process then the other.</summary>
    public string SwitchesPerCall => OtherSwitches is { } other ? $"{OwnSwitches} / {other}" : $"{OwnSwitches}";
}
