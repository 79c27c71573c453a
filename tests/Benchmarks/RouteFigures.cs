namespace GrpcPlugins.Benchmarks;

/// <summary>One proxied path measured: latency at 1 in flight, rate, CPU and context switches per request at 16.</summary>
internal sealed record RouteFigures(string Latency, double Rate, string Throughput, string Cpu, string Switches, string Allocated);
