namespace GrpcPlugins.Benchmarks;

/// <summary>One section of the bench: its name for ONLY=, whether it measures one of issue 8's targets, and its run when it needs no host of another section's.</summary>
internal sealed record BenchSection(string Name, bool Target, Func<Report, Task>? RunAlone);
