using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrpcPlugins.Host.Replicas;

/// <summary>The shared store's check on a host that keeps its state in SQLite: nothing to reach.</summary>
internal sealed class NoSharedStore : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy("not shared: an embedded SQLite file"));
}
