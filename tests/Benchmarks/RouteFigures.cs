namespace GrpcPlugins.Benchmarks;

/// <summary>One proxied path measured: latency at 1 in flight, rate, CPU and context switches per request at 16.</summary>
internal sealed record RouteFigures(string Latency, double Rate, string Throughput, string Cpu, string Switches, string Allocated)
{
    /// <summary>Adds a baseline's rows: <paramref name="latencyRow"/> for its latency, the rest named after <paramref name="name"/>.</summary>
    public void AddTo(Report report, string latencyRow, string name)
    {
        report.Row(latencyRow, Latency);
        report.Row($"{name}, 16 in flight", Throughput);
        report.Row($"{name}, CPU per request", Cpu);
        report.Row($"{name}, context switches per request", Switches);
        report.Row($"{name}, bytes allocated per request in the bench process", Allocated);
    }
}
