using Microsoft.Data.Sqlite;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// <see cref="IPluginStore"/> on an embedded SQLite file in WAL mode with full
/// sync: an acknowledged write survives a kill -9 of the host.
/// </summary>
internal sealed partial class SqlitePluginStore : IPluginStore, IDisposable
{
    private readonly StoreTurns _turns = new();
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly SealedSecrets? _secrets;

    /// <param name="databasePath">The SQLite file.</param>
    /// <param name="time">The clock for the rows' times.</param>
    /// <param name="secrets">Opens sealed secret settings as they are read (the writer seals them); none in tests of the store alone.</param>
    public SqlitePluginStore(string databasePath, TimeProvider time, SealedSecrets? secrets = null)
    {
        _time = time;
        _secrets = secrets;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        CreateOwnerOnly(databasePath);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        try
        {
            CreateSchema();
        }
        catch (SqliteException ex)
        {
            // Cleared, or the pool would keep a connection to a file the host has given up on.
            SqliteConnection.ClearAllPools();
            throw Unusable(Path.GetFullPath(databasePath), ex);
        }
    }

    /// <summary>
    /// Why the host cannot start on the store's file, and what to do, leaving the file as it is:
    /// it holds every plugin's settings and the audit trail, which a new file would lose.
    /// </summary>
    private static InvalidOperationException Unusable(string path, SqliteException ex) => new(ex.SqliteErrorCode switch
    {
        // SQLITE_CORRUPT, SQLITE_NOTADB
        11 or 26 => $"The plugin store '{path}' is damaged or is not a SQLite database ({ex.Message}). The host leaves it untouched, so nothing in it is lost: restore it from a backup, or recover what it holds with `sqlite3 '{path}' .recover`, or move it aside to start with an empty store (every plugin's settings and the audit trail then start afresh).",
        // SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH
        8 or 14 or 3 or 23 => $"The host cannot open the plugin store '{path}' for writing ({ex.Message}): give the host's user write access to it, its -wal and -shm files beside it, and its directory.",
        // SQLITE_FULL
        13 => $"The host cannot write the plugin store '{path}' ({ex.Message}): its disk is full; make room and start the host again.",
        _ => $"The host cannot use the plugin store '{path}' ({ex.Message}). Check the file, its directory and its disk; the host leaves the file untouched.",
    }, ex);

    /// <summary>
    /// Makes a new store file readable by the host's user alone (SQLite would make it 0644, and its
    /// -wal and -shm files take its mode), so a state directory another user can enter does not
    /// hand out every plugin's settings. An existing file keeps the mode it has.
    /// </summary>
    private static void CreateOwnerOnly(string databasePath)
    {
        try
        {
            using var created = new FileStream(databasePath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // There already, or not to be made here: SQLite's own open says which, and how to mend it.
        }
    }

    private void CreateSchema()
    {
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS settings (
                plugin_id TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                json TEXT NOT NULL,
                revision INTEGER NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (plugin_id, tenant_id));
            CREATE TABLE IF NOT EXISTS installs (
                plugin_id TEXT NOT NULL,
                version TEXT NOT NULL,
                address TEXT NOT NULL,
                signer TEXT NOT NULL,
                installed_at TEXT NOT NULL,
                installed_by TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS plugin_state (
                plugin_id TEXT PRIMARY KEY,
                enabled INTEGER NOT NULL,
                updated_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS tenant_scope (
                plugin_id TEXT PRIMARY KEY,
                scope TEXT NOT NULL,
                updated_at TEXT NOT NULL);
            """);
        CreateAuditTable(connection);
        CreateHistoryTable(connection);
        CreateDescribedSchemasTable(connection);
    }

    public async Task<StoredSettings?> GetSettingsAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT json, revision, updated_at FROM settings WHERE plugin_id = $p AND tenant_id = $t";
        command.Parameters.AddWithValue("$p", pluginId);
        command.Parameters.AddWithValue("$t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await ReadStoredAsync(reader, pluginId, tenantId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<(string TenantId, StoredSettings Settings)>> GetAllSettingsAsync(string pluginId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT tenant_id, json, revision, updated_at FROM settings WHERE plugin_id = $p ORDER BY tenant_id";
        command.Parameters.AddWithValue("$p", pluginId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var all = new List<(string, StoredSettings)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            all.Add((reader.GetString(0), new StoredSettings(Opened(reader.GetString(1), pluginId, reader.GetString(0)), reader.GetInt64(2), DateTimeOffset.Parse(reader.GetString(3), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return all;
    }

    public async Task<IReadOnlyList<SettingsScope>> ListSettingsScopesAsync(string pluginId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT tenant_id, revision, LENGTH(CAST(json AS BLOB)), updated_at FROM settings WHERE plugin_id = $p ORDER BY tenant_id";
        command.Parameters.AddWithValue("$p", pluginId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var scopes = new List<SettingsScope>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            scopes.Add(new SettingsScope(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), DateTimeOffset.Parse(reader.GetString(3), System.Globalization.CultureInfo.InvariantCulture)));
        }

        return scopes;
    }

    public async Task<bool> DeleteSettingsAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        // A deleted tenant's earlier revisions go with it: deleting is how an admin removes a tenant's data.
        command.CommandText = "DELETE FROM settings_history WHERE plugin_id = $p AND tenant_id = $t; DELETE FROM settings WHERE plugin_id = $p AND tenant_id = $t";
        command.Parameters.AddWithValue("$p", pluginId);
        command.Parameters.AddWithValue("$t", tenantId);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<SettingsWriteView> GetSettingsForWriteAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT json, revision, updated_at FROM settings WHERE plugin_id = $p AND tenant_id = $t;
            SELECT COALESCE(SUM(CASE WHEN tenant_id <> '' THEN 1 ELSE 0 END), 0), COALESCE(SUM(LENGTH(CAST(json AS BLOB))), 0)
            FROM settings WHERE plugin_id = $p AND tenant_id <> $t
            """;
        command.Parameters.AddWithValue("$p", pluginId);
        command.Parameters.AddWithValue("$t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var current = await ReadStoredAsync(reader, pluginId, tenantId, cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new SettingsWriteView(current, new SettingsUsage(checked((int)reader.GetInt64(0)), reader.GetInt64(1)));
    }

    public async Task<long?> PutSettingsAsync(string pluginId, string tenantId, string settingsJson, long? expectedRevision, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        // The write and its copy in the history commit together, or neither does.
        await using var transaction = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = SettingsWriteSql.Put(expectedRevision);
        command.Parameters.AddWithValue("@p", pluginId);
        command.Parameters.AddWithValue("@t", tenantId);
        command.Parameters.AddWithValue("@j", settingsJson);
        command.Parameters.AddWithValue("@u", _time.GetUtcNow().ToString("O"));
        command.Parameters.AddWithValue("@e", expectedRevision ?? 0);
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long revision)
        {
            return null;
        }

        await KeepRevisionAsync(connection, transaction, pluginId, tenantId, revision, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return revision;
    }

    public async Task<bool?> GetEnabledAsync(string pluginId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT enabled FROM plugin_state WHERE plugin_id = $p";
        command.Parameters.AddWithValue("$p", pluginId);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null ? null : (long)value != 0;
    }

    public async Task SetEnabledAsync(string pluginId, bool enabled, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO plugin_state (plugin_id, enabled, updated_at) VALUES ($p, $e, $u)
            ON CONFLICT (plugin_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at
            """;
        command.Parameters.AddWithValue("$p", pluginId);
        command.Parameters.AddWithValue("$e", enabled ? 1 : 0);
        command.Parameters.AddWithValue("$u", _time.GetUtcNow().ToString("O"));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyDictionary<string, string>> GetTenantScopesAsync(CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT plugin_id, scope FROM tenant_scope";
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
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT scope FROM tenant_scope WHERE plugin_id = $p";
        command.Parameters.AddWithValue("$p", pluginId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task SetTenantScopeAsync(string pluginId, string? scopeJson, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = scopeJson is null
            ? "DELETE FROM tenant_scope WHERE plugin_id = $p"
            : """
                INSERT INTO tenant_scope (plugin_id, scope, updated_at) VALUES ($p, $s, $u)
                ON CONFLICT (plugin_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at
                """;
        command.Parameters.AddWithValue("$p", pluginId);
        command.Parameters.AddWithValue("$s", (object?)scopeJson ?? DBNull.Value);
        command.Parameters.AddWithValue("$u", _time.GetUtcNow().ToString("O"));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RecordInstallAsync(InstallRecord record, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO installs (plugin_id, version, address, signer, installed_at, installed_by) VALUES ($p, $v, $a, $s, $t, $b)";
        command.Parameters.AddWithValue("$p", record.PluginId);
        command.Parameters.AddWithValue("$v", record.Version);
        command.Parameters.AddWithValue("$a", record.Address);
        command.Parameters.AddWithValue("$s", record.Signer);
        command.Parameters.AddWithValue("$t", record.At.ToString("O"));
        command.Parameters.AddWithValue("$b", record.By);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<InstallRecord>> GetInstallsAsync(string pluginId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, address, signer, installed_at, installed_by FROM installs WHERE plugin_id = $p ORDER BY rowid";
        command.Parameters.AddWithValue("$p", pluginId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var records = new List<InstallRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(new InstallRecord(pluginId, reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.Parse(reader.GetString(3), System.Globalization.CultureInfo.InvariantCulture), reader.GetString(4)));
        }

        return records;
    }

    public async Task DeletePluginAsync(string pluginId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM settings WHERE plugin_id = $p; DELETE FROM settings_history WHERE plugin_id = $p; DELETE FROM plugin_state WHERE plugin_id = $p; DELETE FROM tenant_scope WHERE plugin_id = $p; DELETE FROM described_schemas WHERE plugin_id = $p";
        command.Parameters.AddWithValue("$p", pluginId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _turns.Dispose();

    /// <summary>The next row (json, revision, updated_at) as settings, or null when there is none.</summary>
    private async Task<StoredSettings?> ReadStoredAsync(SqliteDataReader reader, string pluginId, string tenantId, CancellationToken cancellationToken) =>
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoredSettings(Opened(reader.GetString(0), pluginId, tenantId), reader.GetInt64(1), DateTimeOffset.Parse(reader.GetString(2), System.Globalization.CultureInfo.InvariantCulture))
            : null;

    private string Opened(string json, string pluginId, string tenantId) => _secrets?.Open(json, pluginId, tenantId) ?? json;

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Full sync: a write is acknowledged only once it is on disk.
        Execute(connection, "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
