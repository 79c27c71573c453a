using GrpcPlugins.Host.Audit;

namespace GrpcPlugins.Host.Replicas;

/// <summary>The audit trail every replica writes to: one trail for the deployment, ids in commit order of their taking.</summary>
internal sealed partial class PostgresPluginStore
{
    public async Task AppendAuditAsync(AuditEntry entry, int kept, CancellationToken cancellationToken)
    {
        // An identity's values are never reused, so a page's 'before' stays valid after the oldest are dropped.
        await using var command = dataSource.CreateCommand("""
            WITH added AS (
                INSERT INTO audit (at, actor, remote, action, plugin_id, tenant_id, status, detail, replica)
                VALUES (@at, @actor, @remote, @action, @p, @t, @status, @detail, @replica) RETURNING id)
            DELETE FROM audit WHERE id <= (SELECT id FROM added) - @kept
            """);
        command.Parameters.AddWithValue("at", entry.At.ToUniversalTime());
        command.Parameters.AddWithValue("actor", entry.Actor);
        command.Parameters.AddWithValue("remote", entry.Remote);
        command.Parameters.AddWithValue("action", entry.Action);
        command.Parameters.AddWithValue("p", entry.PluginId);
        command.Parameters.AddWithValue("t", entry.Tenant);
        command.Parameters.AddWithValue("status", entry.Status);
        command.Parameters.AddWithValue("detail", entry.Detail);
        command.Parameters.AddWithValue("replica", entry.Replica);
        command.Parameters.AddWithValue("kept", (long)kept);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AuditEntry>> GetAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, at, actor, remote, action, plugin_id, tenant_id, status, detail, replica FROM audit
            WHERE (@p::text IS NULL OR plugin_id = @p) AND (@a::text IS NULL OR action = @a) AND (@w::text IS NULL OR actor = @w) AND (@b::bigint IS NULL OR id < @b)
            ORDER BY id DESC LIMIT @n
            """);
        command.Parameters.AddWithValue("p", NpgsqlTypes.NpgsqlDbType.Text, (object?)query.PluginId ?? DBNull.Value);
        command.Parameters.AddWithValue("a", NpgsqlTypes.NpgsqlDbType.Text, (object?)query.Action ?? DBNull.Value);
        command.Parameters.AddWithValue("w", NpgsqlTypes.NpgsqlDbType.Text, (object?)query.Actor ?? DBNull.Value);
        command.Parameters.AddWithValue("b", NpgsqlTypes.NpgsqlDbType.Bigint, (object?)query.Before ?? DBNull.Value);
        command.Parameters.AddWithValue("n", query.Limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await AuditRows.ReadAsync(reader, r => r.GetFieldValue<DateTimeOffset>(1), cancellationToken).ConfigureAwait(false);
    }
}
