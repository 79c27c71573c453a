using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace GrpcPlugins.Host.Replicas;

/// <summary>How many of each a <see cref="SqliteImport"/> carried over.</summary>
internal sealed record ImportCounts(int Settings, int Revisions, int Installs, int EnabledStates, int TenantScopes, int AuditEntries, int Keys, int DescribedSchemas);

/// <summary>
/// Moves a single host's state (its SQLite file and the key ring beside it) into an empty
/// PostgreSQL store, so a host that grows into replicas keeps its plugins' settings, secrets
/// included: they stay sealed as they were and open with the key ring carried along. All or
/// nothing, in one transaction; a store that already holds state is refused, never merged.
/// </summary>
internal static class SqliteImport
{
    private static readonly string[] Tables = ["settings", "settings_history", "installs", "plugin_state", "tenant_scope", "audit", "key_ring", "described_schemas"];

    // How each SQLite column becomes the value PostgreSQL's column takes, in COPY's binary form.
    private static readonly Column Text = new((import, row, i, ct) => import.WriteAsync(row.GetString(i), NpgsqlDbType.Text, ct));
    private static readonly Column Long = new((import, row, i, ct) => import.WriteAsync(row.GetInt64(i), NpgsqlDbType.Bigint, ct));
    private static readonly Column Flag = new((import, row, i, ct) => import.WriteAsync(row.GetInt64(i) != 0, NpgsqlDbType.Boolean, ct));
    private static readonly Column Int = new((import, row, i, ct) => import.WriteAsync((int)row.GetInt64(i), NpgsqlDbType.Integer, ct));
    private static readonly Column Time = new((import, row, i, ct) => import.WriteAsync(DateTimeOffset.Parse(row.GetString(i), CultureInfo.InvariantCulture).ToUniversalTime(), NpgsqlDbType.TimestampTz, ct));

    public static async Task<ImportCounts> ImportAsync(string stateDirectory, string connectionString, CancellationToken cancellationToken)
    {
        var file = Path.Combine(stateDirectory, "plugins.db");
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"{file} does not exist: name the state directory of the host whose state moves (its PluginHost:StateDirectory).");
        }

        await using var target = NpgsqlDataSource.Create(connectionString);
        await PostgresSchema.EnsureAsync(target, cancellationToken).ConfigureAwait(false);
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Held to the commit: no replica writes into the tables while they fill.
        await ExecuteAsync(connection, transaction, $"LOCK TABLE {string.Join(", ", Tables)} IN EXCLUSIVE MODE", cancellationToken).ConfigureAwait(false);
        await using (var count = new NpgsqlCommand("SELECT " + string.Join(" + ", Tables.Select(t => $"(SELECT count(*) FROM {t})")), connection, transaction))
        {
            if (await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long rows and > 0)
            {
                throw new InvalidOperationException($"The PostgreSQL store already holds state ({rows} rows): an import goes into an empty database only, never merged with what replicas wrote. Name a new database, or empty this one.");
            }
        }

        await using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await source.OpenAsync(cancellationToken).ConfigureAwait(false);
        // One read transaction: a host still running beside the import is seen at one instant.
        await using var snapshot = (SqliteTransaction)await source.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var counts = new ImportCounts(
            await CopyAsync(source, "SELECT plugin_id, tenant_id, json, revision, updated_at FROM settings", connection, "settings (plugin_id, tenant_id, json, revision, updated_at)", [Text, Text, Text, Long, Time], cancellationToken).ConfigureAwait(false),
            await CopyAsync(source, "SELECT plugin_id, tenant_id, revision, json, updated_at FROM settings_history", connection, "settings_history (plugin_id, tenant_id, revision, json, updated_at)", [Text, Text, Long, Text, Time], cancellationToken).ConfigureAwait(false),
            await CopyAsync(source, "SELECT plugin_id, version, address, signer, installed_at, installed_by FROM installs ORDER BY rowid", connection, "installs (plugin_id, version, address, signer, installed_at, installed_by)", [Text, Text, Text, Text, Time, Text], cancellationToken).ConfigureAwait(false),
            await CopyAsync(source, "SELECT plugin_id, enabled, updated_at FROM plugin_state", connection, "plugin_state (plugin_id, enabled, updated_at)", [Text, Flag, Time], cancellationToken).ConfigureAwait(false),
            await CopyAsync(source, "SELECT plugin_id, scope, updated_at FROM tenant_scope", connection, "tenant_scope (plugin_id, scope, updated_at)", [Text, Text, Time], cancellationToken).ConfigureAwait(false),
            // Ids kept, so a page cursor an admin holds still means the same entry (COPY writes identity columns as given).
            await CopyAsync(source, "SELECT id, at, actor, remote, action, plugin_id, tenant_id, status, detail, replica FROM audit ORDER BY id", connection, "audit (id, at, actor, remote, action, plugin_id, tenant_id, status, detail, replica)", [Long, Time, Text, Text, Text, Text, Text, Int, Text, Text], cancellationToken).ConfigureAwait(false),
            await CopyKeysAsync(Path.Combine(stateDirectory, "keys"), connection, transaction, cancellationToken).ConfigureAwait(false),
            await CopyAsync(source, "SELECT plugin_id, version, schema, updated_at FROM described_schemas", connection, "described_schemas (plugin_id, version, schema, updated_at)", [Text, Text, Text, Time], cancellationToken).ConfigureAwait(false));
        await ExecuteAsync(connection, transaction, "SELECT setval(pg_get_serial_sequence('audit', 'id'), GREATEST((SELECT max(id) FROM audit), 1), (SELECT max(id) FROM audit) IS NOT NULL)", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return counts;
    }

    /// <summary>
    /// Streams the rows <paramref name="select"/> reads into <paramref name="into"/> with a binary COPY:
    /// a long-lived host holds up to a hundred thousand audit entries and ten revisions of every
    /// tenant's settings, which one INSERT (one round trip) a row took minutes to move.
    /// </summary>
    private static async Task<int> CopyAsync(SqliteConnection source, string select, NpgsqlConnection target, string into, Column[] columns, CancellationToken cancellationToken)
    {
        await using var read = source.CreateCommand();
        read.CommandText = select;
        await using var rows = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var import = await target.BeginBinaryImportAsync($"COPY {into} FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        var copied = 0;
        while (await rows.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            await import.StartRowAsync(cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < columns.Length; i++)
            {
                await columns[i].WriteAsync(import, rows, i, cancellationToken).ConfigureAwait(false);
            }

            copied++;
        }

        await import.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return copied;
    }

    private static async Task<int> CopyKeysAsync(string directory, NpgsqlConnection target, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var copied = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*.xml").Order(StringComparer.Ordinal))
        {
            await using var write = new NpgsqlCommand("INSERT INTO key_ring (name, xml, added_at) VALUES ($1, $2, $3)", target, transaction);
            write.Parameters.Add(new NpgsqlParameter { Value = Path.GetFileNameWithoutExtension(file) });
            write.Parameters.Add(new NpgsqlParameter { Value = System.Xml.Linq.XElement.Load(file).ToString(System.Xml.Linq.SaveOptions.DisableFormatting) });
            write.Parameters.Add(new NpgsqlParameter { Value = new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero) });
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            copied++;
        }

        return copied;
    }

    /// <summary>Writes one SQLite column of the current row to the COPY.</summary>
    private sealed record Column(Func<NpgsqlBinaryImporter, SqliteDataReader, int, CancellationToken, Task> WriteAsync);

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
