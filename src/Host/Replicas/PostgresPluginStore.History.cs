using GrpcPlugins.Host.Settings;
using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>Each scope's latest settings revisions, as the SQLite store keeps them (<see cref="SqlitePluginStore.RevisionsKept"/>).</summary>
internal sealed partial class PostgresPluginStore
{
    public async Task<IReadOnlyList<StoredSettings>> GetSettingsRevisionsAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT json, revision, updated_at FROM settings_history WHERE plugin_id = @p AND tenant_id = @t ORDER BY revision DESC");
        command.Parameters.AddWithValue("p", pluginId);
        command.Parameters.AddWithValue("t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var revisions = new List<StoredSettings>();
        while (await ReadStoredAsync(reader, pluginId, tenantId, cancellationToken).ConfigureAwait(false) is { } revision)
        {
            revisions.Add(revision);
        }

        return revisions;
    }

    /// <summary>Copies the revision just written into the history and drops the scope's older ones beyond the kept number.</summary>
    private static async Task KeepRevisionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string pluginId, string tenantId, long revision, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO settings_history (plugin_id, tenant_id, revision, json, updated_at)
            SELECT plugin_id, tenant_id, revision, json, updated_at FROM settings WHERE plugin_id = @p AND tenant_id = @t
            ON CONFLICT (plugin_id, tenant_id, revision) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at;
            DELETE FROM settings_history WHERE plugin_id = @p AND tenant_id = @t AND revision <= @r - @kept;
            """, connection, transaction);
        command.Parameters.AddWithValue("p", pluginId);
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("r", revision);
        command.Parameters.AddWithValue("kept", (long)SqlitePluginStore.RevisionsKept);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
