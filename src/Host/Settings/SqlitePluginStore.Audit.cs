using System.Globalization;
using GrpcPlugins.Host.Audit;
using Microsoft.Data.Sqlite;

namespace GrpcPlugins.Host.Settings;

/// <summary>The audit trail's table: an uninstall keeps its plugin's entries, they are the record of it.</summary>
internal sealed partial class SqlitePluginStore
{
    public async Task AppendAuditAsync(AuditEntry entry, int kept, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        // AUTOINCREMENT ids are never reused after the oldest are dropped, so a page's 'before' stays valid.
        command.CommandText = """
            INSERT INTO audit (at, actor, remote, action, plugin_id, tenant_id, status, detail, replica) VALUES ($at, $actor, $remote, $action, $p, $t, $status, $detail, $replica);
            DELETE FROM audit WHERE id <= last_insert_rowid() - $kept;
            """;
        command.Parameters.AddWithValue("$at", entry.At.ToString("O"));
        command.Parameters.AddWithValue("$actor", entry.Actor);
        command.Parameters.AddWithValue("$remote", entry.Remote);
        command.Parameters.AddWithValue("$action", entry.Action);
        command.Parameters.AddWithValue("$p", entry.PluginId);
        command.Parameters.AddWithValue("$t", entry.Tenant);
        command.Parameters.AddWithValue("$status", entry.Status);
        command.Parameters.AddWithValue("$detail", entry.Detail);
        command.Parameters.AddWithValue("$replica", entry.Replica);
        command.Parameters.AddWithValue("$kept", kept);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AuditEntry>> GetAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, at, actor, remote, action, plugin_id, tenant_id, status, detail, replica FROM audit
            WHERE ($p IS NULL OR plugin_id = $p) AND ($a IS NULL OR action = $a) AND ($w IS NULL OR actor = $w) AND ($b IS NULL OR id < $b)
            ORDER BY id DESC LIMIT $n
            """;
        command.Parameters.AddWithValue("$p", (object?)query.PluginId ?? DBNull.Value);
        command.Parameters.AddWithValue("$a", (object?)query.Action ?? DBNull.Value);
        command.Parameters.AddWithValue("$w", (object?)query.Actor ?? DBNull.Value);
        command.Parameters.AddWithValue("$b", (object?)query.Before ?? DBNull.Value);
        command.Parameters.AddWithValue("$n", query.Limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await AuditRows.ReadAsync(reader, r => DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
    }

    private static void CreateAuditTable(SqliteConnection connection)
    {
        Execute(connection, """
        CREATE TABLE IF NOT EXISTS audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            remote TEXT NOT NULL,
            action TEXT NOT NULL,
            plugin_id TEXT NOT NULL,
            tenant_id TEXT NOT NULL,
            status INTEGER NOT NULL,
            detail TEXT NOT NULL,
            replica TEXT NOT NULL DEFAULT '');
        CREATE INDEX IF NOT EXISTS audit_by_plugin ON audit (plugin_id, id);
        """);

        // A file written before the column existed gains it; its entries name no replica.
        using var columns = connection.CreateCommand();
        columns.CommandText = "SELECT COUNT(*) FROM pragma_table_info('audit') WHERE name = 'replica'";
        if ((long)columns.ExecuteScalar()! == 0)
        {
            Execute(connection, "ALTER TABLE audit ADD COLUMN replica TEXT NOT NULL DEFAULT ''");
        }
    }
}
