using GrpcPlugins.Host.Settings;
using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// <see cref="IPluginStore"/> on a PostgreSQL database that host replicas share. Every write
/// that another replica must act on sends a <see cref="StoreChange"/> with NOTIFY in its own
/// transaction, so the others hear of it exactly when it commits (and never of one rolled back).
/// Npgsql is asynchronous and pools its connections, so, unlike the SQLite store, no turns.
/// </summary>
internal sealed partial class PostgresPluginStore(NpgsqlDataSource dataSource, ReplicaIdentity replica, TimeProvider time, SealedSecrets? secrets = null) : IPluginStore
{
    /// <summary>This replica, as its notices name it.</summary>
    public Guid Origin => replica.Id;

    public async Task<StoredSettings?> GetSettingsAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT json, revision, updated_at FROM settings WHERE plugin_id = @p AND tenant_id = @t");
        command.Parameters.AddWithValue("p", pluginId);
        command.Parameters.AddWithValue("t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await ReadStoredAsync(reader, pluginId, tenantId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<(string TenantId, StoredSettings Settings)>> GetAllSettingsAsync(string pluginId, CancellationToken cancellationToken)
    {
        // COLLATE "C": the same order as the SQLite store's, whatever the database's collation.
        await using var command = dataSource.CreateCommand("SELECT tenant_id, json, revision, updated_at FROM settings WHERE plugin_id = @p ORDER BY tenant_id COLLATE \"C\"");
        command.Parameters.AddWithValue("p", pluginId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var all = new List<(string, StoredSettings)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            all.Add((reader.GetString(0), new StoredSettings(Opened(reader.GetString(1), pluginId, reader.GetString(0)), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3))));
        }

        return all;
    }

    public async Task<IReadOnlyList<SettingsScope>> ListSettingsScopesAsync(string pluginId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT tenant_id, revision, octet_length(json), updated_at FROM settings WHERE plugin_id = @p ORDER BY tenant_id COLLATE \"C\"");
        command.Parameters.AddWithValue("p", pluginId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var scopes = new List<SettingsScope>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            scopes.Add(new SettingsScope(reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return scopes;
    }

    public async Task<bool> DeleteSettingsAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        // One statement, as a write is: the settings, their history (deleting is how an admin
        // removes a tenant's data) and the notice, which only a deletion that found settings sends.
        await using var command = dataSource.CreateCommand("""
            WITH gone AS (DELETE FROM settings WHERE plugin_id = @p AND tenant_id = @t RETURNING 1),
            history AS (DELETE FROM settings_history WHERE plugin_id = @p AND tenant_id = @t),
            noticed AS (SELECT pg_notify(@c, @n) FROM gone)
            SELECT count(*) FROM gone, noticed
            """);
        command.Parameters.AddWithValue("p", pluginId);
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("c", StoreChange.Channel);
        command.Parameters.AddWithValue("n", Notice(StoreChangeKind.SettingsDeleted, pluginId, tenantId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is > 0L;
    }

    public async Task<SettingsWriteView> GetSettingsForWriteAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT json, revision, updated_at FROM settings WHERE plugin_id = @p AND tenant_id = @t;
            SELECT COUNT(*) FILTER (WHERE tenant_id <> ''), COALESCE(SUM(octet_length(json)), 0)::bigint
            FROM settings WHERE plugin_id = @p AND tenant_id <> @t
            """);
        command.Parameters.AddWithValue("p", pluginId);
        command.Parameters.AddWithValue("t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var current = await ReadStoredAsync(reader, pluginId, tenantId, cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new SettingsWriteView(current, new SettingsUsage(checked((int)reader.GetInt64(0)), reader.GetInt64(1)));
    }

    public async Task<long?> PutSettingsAsync(string pluginId, string tenantId, string settingsJson, long? expectedRevision, CancellationToken cancellationToken)
    {
        // One statement, so one round trip and one commit: the write, its copy in the history, the
        // history's trim and the notice, all or none. A refused write (no row from 'written')
        // copies, trims and notices nothing.
        await using var command = dataSource.CreateCommand($"""
            WITH written AS ({SettingsWriteSql.Put(expectedRevision)}),
            kept AS (
                INSERT INTO settings_history (plugin_id, tenant_id, revision, json, updated_at)
                SELECT @p, @t, revision, @j, @u FROM written
                ON CONFLICT (plugin_id, tenant_id, revision) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at),
            trimmed AS (
                DELETE FROM settings_history WHERE plugin_id = @p AND tenant_id = @t AND revision <= (SELECT revision FROM written) - @kept),
            noticed AS (SELECT pg_notify(@c, @n) FROM written)
            SELECT written.revision FROM written, noticed
            """);
        command.Parameters.AddWithValue("p", pluginId);
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("j", settingsJson);
        command.Parameters.AddWithValue("u", time.GetUtcNow());
        command.Parameters.AddWithValue("e", expectedRevision ?? 0);
        command.Parameters.AddWithValue("kept", (long)SqlitePluginStore.RevisionsKept);
        command.Parameters.AddWithValue("c", StoreChange.Channel);
        command.Parameters.AddWithValue("n", Notice(StoreChangeKind.Settings, pluginId, tenantId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long?;
    }

    public async Task<bool?> GetEnabledAsync(string pluginId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT enabled FROM plugin_state WHERE plugin_id = @p");
        command.Parameters.AddWithValue("p", pluginId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as bool?;
    }

    public Task SetEnabledAsync(string pluginId, bool enabled, CancellationToken cancellationToken) =>
        WriteAndNotifyAsync(
            """
            INSERT INTO plugin_state (plugin_id, enabled, updated_at) VALUES (@p, @e, @u)
            ON CONFLICT (plugin_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at
            """,
            parameters => parameters.AddWithValue("e", enabled),
            StoreChangeKind.Enabled,
            pluginId,
            cancellationToken);

    public async Task<IReadOnlyDictionary<string, string>> GetTenantScopesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT plugin_id, scope FROM tenant_scope");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var scopes = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            scopes[reader.GetString(0)] = reader.GetString(1);
        }

        return scopes;
    }

    public async Task<string?> GetTenantScopeAsync(string pluginId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT scope FROM tenant_scope WHERE plugin_id = @p");
        command.Parameters.AddWithValue("p", pluginId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public Task SetTenantScopeAsync(string pluginId, string? scopeJson, CancellationToken cancellationToken) =>
        WriteAndNotifyAsync(
            scopeJson is null
                ? "DELETE FROM tenant_scope WHERE plugin_id = @p"
                : """
                    INSERT INTO tenant_scope (plugin_id, scope, updated_at) VALUES (@p, @s, @u)
                    ON CONFLICT (plugin_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at
                    """,
            parameters => parameters.AddWithValue("s", (object?)scopeJson ?? DBNull.Value),
            StoreChangeKind.TenantScope,
            pluginId,
            cancellationToken);

    /// <summary>Only the history: the notice that makes the other replicas follow is <see cref="ISharedBundles"/>'s, sent once the bundle is theirs to read.</summary>
    public async Task RecordInstallAsync(InstallRecord record, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO installs (plugin_id, version, address, signer, installed_at, installed_by) VALUES (@p, @v, @a, @s, @at, @b)");
        command.Parameters.AddWithValue("p", record.PluginId);
        command.Parameters.AddWithValue("v", record.Version);
        command.Parameters.AddWithValue("a", record.Address);
        command.Parameters.AddWithValue("s", record.Signer);
        command.Parameters.AddWithValue("at", record.At.ToUniversalTime());
        command.Parameters.AddWithValue("b", record.By);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<InstallRecord>> GetInstallsAsync(string pluginId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT version, address, signer, installed_at, installed_by FROM installs WHERE plugin_id = @p ORDER BY id");
        command.Parameters.AddWithValue("p", pluginId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var records = new List<InstallRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(new InstallRecord(pluginId, reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4)));
        }

        return records;
    }

    public Task DeletePluginAsync(string pluginId, CancellationToken cancellationToken) =>
        WriteAndNotifyAsync(
            "DELETE FROM settings WHERE plugin_id = @p; DELETE FROM settings_history WHERE plugin_id = @p; DELETE FROM plugin_state WHERE plugin_id = @p; DELETE FROM tenant_scope WHERE plugin_id = @p; DELETE FROM described_schemas WHERE plugin_id = @p",
            _ => { },
            StoreChangeKind.PluginDeleted,
            pluginId,
            cancellationToken);

    /// <summary>One write of a plugin's (parameters @p and @u given) and its notice, in one transaction.</summary>
    private async Task WriteAndNotifyAsync(string sql, Action<NpgsqlParameterCollection> parameters, StoreChangeKind kind, string pluginId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue("p", pluginId);
        command.Parameters.AddWithValue("u", time.GetUtcNow());
        parameters(command.Parameters);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await StoreNotices.SendAsync(connection, transaction, Change(kind, pluginId, string.Empty), cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private string Notice(StoreChangeKind kind, string pluginId, string tenantId) => Change(kind, pluginId, tenantId).ToPayload();

    private StoreChange Change(StoreChangeKind kind, string pluginId, string tenantId) => new(replica.Id, replica.Name, kind, pluginId, tenantId);

    /// <summary>The next row (json, revision, updated_at) as settings, or null when there is none.</summary>
    private async Task<StoredSettings?> ReadStoredAsync(NpgsqlDataReader reader, string pluginId, string tenantId, CancellationToken cancellationToken) =>
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoredSettings(Opened(reader.GetString(0), pluginId, tenantId), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2))
            : null;

    private string Opened(string json, string pluginId, string tenantId) => secrets?.Open(json, pluginId, tenantId) ?? json;
}
