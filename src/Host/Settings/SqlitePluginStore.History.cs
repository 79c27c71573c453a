using Microsoft.Data.Sqlite;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Each scope's latest settings revisions, kept as stored (secrets sealed), so an admin can see
/// what changed and put an earlier revision back. A tenant's or plugin's deletion takes them along.
/// </summary>
internal sealed partial class SqlitePluginStore
{
    /// <summary>How many revisions of one scope are kept, the current one included.</summary>
    public const int RevisionsKept = 10;

    public async Task<IReadOnlyList<StoredSettings>> GetSettingsRevisionsAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT json, revision, updated_at FROM settings_history WHERE plugin_id = $p AND tenant_id = $t ORDER BY revision DESC";
        command.Parameters.AddWithValue("$p", pluginId);
        command.Parameters.AddWithValue("$t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var revisions = new List<StoredSettings>();
        while (await ReadStoredAsync(reader, pluginId, tenantId, cancellationToken).ConfigureAwait(false) is { } revision)
        {
            revisions.Add(revision);
        }

        return revisions;
    }

    /// <summary>Copies the revision just written into the history and drops the scope's older ones beyond <see cref="RevisionsKept"/>.</summary>
    private static async Task KeepRevisionAsync(SqliteConnection connection, SqliteTransaction transaction, string pluginId, string tenantId, long revision, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT OR REPLACE INTO settings_history (plugin_id, tenant_id, revision, json, updated_at)
            SELECT plugin_id, tenant_id, revision, json, updated_at FROM settings WHERE plugin_id = $p AND tenant_id = $t;
            DELETE FROM settings_history WHERE plugin_id = $p AND tenant_id = $t AND revision <= $r - $kept;
            """;
        command.Parameters.AddWithValue("$p", pluginId);
        command.Parameters.AddWithValue("$t", tenantId);
        command.Parameters.AddWithValue("$r", revision);
        command.Parameters.AddWithValue("$kept", RevisionsKept);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void CreateHistoryTable(SqliteConnection connection) => Execute(connection, """
        CREATE TABLE IF NOT EXISTS settings_history (
            plugin_id TEXT NOT NULL,
            tenant_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            json TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (plugin_id, tenant_id, revision));
        """);
}
