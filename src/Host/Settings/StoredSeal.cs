using System.Data.Common;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Seals stored settings in place, the same on SQLite and PostgreSQL: every row of a plugin
/// (each scope's current settings and its kept revisions) read raw, sealed values unopened, then
/// each one sealing changed rewritten only if it still holds what was read, so a write that
/// landed meanwhile is never undone. In the caller's transaction.
/// </summary>
internal static class StoredSeal
{
    private const string Read = """
        SELECT 'settings', tenant_id, revision, json FROM settings WHERE plugin_id = @p
        UNION ALL
        SELECT 'settings_history', tenant_id, revision, json FROM settings_history WHERE plugin_id = @p
        """;

    /// <summary>Returns how many rows were rewritten.</summary>
    public static async Task<int> RunAsync(DbConnection connection, DbTransaction transaction, string pluginId, Func<string, string> seal, CancellationToken cancellationToken)
    {
        // Only the rows the seal changes are held (a plugin's settings and their revisions may run to
        // hundreds of megabytes); they are written once the read is done, since a connection runs
        // one command at a time.
        var changed = new List<(string Table, string Tenant, long Revision, string Json, string Sealed)>();
        await using (var read = Command(connection, transaction, Read, ("@p", pluginId)))
        {
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var json = reader.GetString(3);
                if (seal(json) is var sealedJson && sealedJson != json)
                {
                    changed.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), json, sealedJson));
                }
            }
        }

        var rewritten = 0;
        foreach (var (table, tenant, revision, json, sealedJson) in changed)
        {
            var sql = $"UPDATE {(table == "settings" ? "settings" : "settings_history")} SET json = @sealed WHERE plugin_id = @p AND tenant_id = @t AND revision = @r AND json = @was";
            await using var write = Command(connection, transaction, sql, ("@p", pluginId), ("@t", tenant), ("@r", revision), ("@was", json), ("@sealed", sealedJson));
            rewritten += await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return rewritten;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}
