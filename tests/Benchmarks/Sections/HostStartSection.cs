namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>The reference host spawned to its first admin answer.</summary>
internal static class HostStartSection
{
    public static async Task RunAsync(Report report)
    {
        var start = await HostStart.MeasureAsync(7, CancellationToken.None);
        report.Row("host start: the reference host spawned to its first admin answer (no plugins, JIT; median of 7)", $"{Stats.Median(start.Milliseconds):0} ms (min {start.Milliseconds.Min():0}, max {start.Milliseconds.Max():0})");
        report.Row("  its CPU until then (median)", $"{Stats.Median(start.CpuMilliseconds):0} ms");
    }
}
