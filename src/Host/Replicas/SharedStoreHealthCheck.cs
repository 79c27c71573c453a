using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// The shared store, as this replica reaches it: Unhealthy when PostgreSQL does not answer
/// (settings writes, enable and disable fail), Degraded when it answers but the other
/// replicas' changes do not reach this one (it serves with what it last heard), or when it could
/// not follow an install made on another (it runs different code from theirs).
/// </summary>
internal sealed class SharedStoreHealthCheck(NpgsqlDataSource dataSource, ReplicaLink link, UnfollowedInstalls unfollowed) : IHealthCheck
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

        var notFollowed = unfollowed.Current;
        data["notFollowed"] = notFollowed.Count;
        if (!link.Listening)
        {
            return HealthCheckResult.Degraded($"PostgreSQL answers, but this replica does not hear the others' changes since {link.LostAt:O} ({link.Detail})", data: data);
        }

        return notFollowed.Count == 0
            ? HealthCheckResult.Healthy("PostgreSQL answers; other replicas' changes arrive", data)
            : HealthCheckResult.Degraded($"PostgreSQL answers, but this replica could not follow what other replicas installed or uninstalled: {string.Join(" ", notFollowed.Select(u => $"{u.PluginId} (since {u.Since:O}): {u.Problem}"))}", data: data);
    }
}
