using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// The shared store, as this replica reaches it: Unhealthy when PostgreSQL does not answer
/// (settings writes, enable and disable fail), Degraded when it answers but the other
/// replicas' changes do not reach this one (it serves with what it last heard).
/// </summary>
internal sealed class SharedStoreHealthCheck(NpgsqlDataSource dataSource, ReplicaLink link) : IHealthCheck
{
    public const string Name = "shared-store";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["listening"] = link.Listening, ["linkLosses"] = link.Losses };
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL does not answer: {ex.Message}", ex, data);
        }

        return link.Listening
            ? HealthCheckResult.Healthy("PostgreSQL answers; other replicas' changes arrive", data)
            : HealthCheckResult.Degraded($"PostgreSQL answers, but this replica does not hear the others' changes since {link.LostAt:O} ({link.Detail})", data: data);
    }
}
