using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// <see cref="ISharedBundles"/> in the shared PostgreSQL store: one row per plugin saying what
/// every replica must run (cluster_plugins), and the bundles it names, in chunks of a MiB
/// (bundle_chunks), so neither a write nor a read holds a whole bundle in memory. Only the
/// bundle each plugin runs now is kept (an upgrade or an uninstall drops the one before), and
/// the bundles admins uploaded and have not installed yet (staged_bundles), for their lifetime.
/// </summary>
internal sealed class PostgresSharedBundles(NpgsqlDataSource dataSource, ReplicaIdentity replica, TimeProvider time) : ISharedBundles
{
    private const int ChunkBytes = 1 << 20;

    public async Task InstalledAsync(string pluginId, string version, string address, string bundlePath, string by, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await KeepAsync(connection, transaction, address, bundlePath, cancellationToken).ConfigureAwait(false);
        // Installed, it is no longer waiting: its chunks stay as long as the plugin runs it.
        await ExecuteAsync(connection, transaction, "DELETE FROM staged_bundles WHERE address = @a", cancellationToken, ("a", address)).ConfigureAwait(false);
        await RecordAsync(connection, transaction, new ClusterPlugin(pluginId, address, version, KeepSettings: true, time.GetUtcNow(), by, replica.Name), StoreChangeKind.Installed, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StagedAsync(string address, string bundlePath, string by, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        await DropExpiredAsync(connection, transaction, now - lifetime, address, cancellationToken).ConfigureAwait(false);
        await KeepAsync(connection, transaction, address, bundlePath, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO staged_bundles (address, staged_at, staged_by, replica) VALUES (@a, @at, @by, @r)
            ON CONFLICT (address) DO UPDATE SET staged_at = excluded.staged_at, staged_by = excluded.staged_by, replica = excluded.replica
            """, cancellationToken, ("a", address), ("at", now), ("by", by), ("r", replica.Name)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task SweepStagedAsync(TimeSpan lifetime, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await DropExpiredAsync(connection, transaction, time.GetUtcNow() - lifetime, string.Empty, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops what was staged before <paramref name="before"/> and never installed (but <paramref name="kept"/>,
    /// being staged again), unless a plugin runs it: its chunks are that plugin's then.
    /// </summary>
    private static Task DropExpiredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset before, string kept, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, """
            WITH expired AS (DELETE FROM staged_bundles WHERE staged_at < @before AND address <> @a RETURNING address)
            DELETE FROM bundle_chunks WHERE address IN (SELECT address FROM expired) AND address NOT IN (SELECT address FROM cluster_plugins WHERE address IS NOT NULL)
            """, cancellationToken, ("before", before), ("a", kept));

    /// <summary>Copies the bundle in under its address unless it is there already.</summary>
    private static async Task KeepAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string address, string bundlePath, CancellationToken cancellationToken)
    {
        // Two replicas keeping the same bundle at once would both find it missing and both copy it in.
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtextextended(@a, 0))", cancellationToken, ("a", address)).ConfigureAwait(false);
        await using var kept = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM bundle_chunks WHERE address = @a)", connection, transaction);
        kept.Parameters.AddWithValue("a", address);
        if (await kept.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            await CopyInAsync(connection, address, bundlePath, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task UninstalledAsync(string pluginId, string version, bool keepSettings, string by, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await RecordAsync(connection, transaction, new ClusterPlugin(pluginId, null, version, keepSettings, time.GetUtcNow(), by, replica.Name), StoreChangeKind.Uninstalled, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<ClusterPlugin?> GetAsync(string pluginId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{SelectPlugins} WHERE plugin_id = @p");
        command.Parameters.AddWithValue("p", pluginId);
        return (await ReadPluginsAsync(command, cancellationToken).ConfigureAwait(false)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<ClusterPlugin>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{SelectPlugins} ORDER BY plugin_id COLLATE \"C\"");
        return await ReadPluginsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    private const string SelectPlugins = "SELECT plugin_id, address, version, keep_settings, changed_at, changed_by, replica FROM cluster_plugins";

    private static async Task<List<ClusterPlugin>> ReadPluginsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var plugins = new List<ClusterPlugin>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            plugins.Add(new ClusterPlugin(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5), reader.GetString(6)));
        }

        return plugins;
    }

    public async Task<bool> FetchAsync(string address, string destination, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT data FROM bundle_chunks WHERE address = @a ORDER BY seq");
        command.Parameters.AddWithValue("a", address);
        // Sequential access streams each chunk instead of buffering its row.
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
        await using var file = File.Create(destination);
        var any = false;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            any = true;
            await using var chunk = await reader.GetStreamAsync(0, cancellationToken).ConfigureAwait(false);
            await chunk.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }

        return any;
    }

    private static async Task CopyInAsync(NpgsqlConnection connection, string address, string bundlePath, CancellationToken cancellationToken)
    {
        await using var bundle = File.OpenRead(bundlePath);
        await using var import = await connection.BeginBinaryImportAsync("COPY bundle_chunks (address, seq, data) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        var buffer = new byte[ChunkBytes];
        for (var seq = 0; ; seq++)
        {
            var read = await bundle.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            await import.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(address, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(seq, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(new ArraySegment<byte>(buffer, 0, read), NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
        }

        await import.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Makes <paramref name="plugin"/> what every replica must run, drops the bundle it no longer names, and tells the others.</summary>
    private async Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ClusterPlugin plugin, StoreChangeKind kind, CancellationToken cancellationToken)
    {
        await using (var command = new NpgsqlCommand("""
            WITH before AS (SELECT address FROM cluster_plugins WHERE plugin_id = @p),
            dropped AS (DELETE FROM bundle_chunks WHERE address IN (SELECT address FROM before) AND address IS DISTINCT FROM @a
                AND address NOT IN (SELECT address FROM staged_bundles))
            INSERT INTO cluster_plugins (plugin_id, address, version, keep_settings, changed_at, changed_by, replica) VALUES (@p, @a, @v, @k, @u, @b, @r)
            ON CONFLICT (plugin_id) DO UPDATE SET address = excluded.address, version = excluded.version, keep_settings = excluded.keep_settings,
                changed_at = excluded.changed_at, changed_by = excluded.changed_by, replica = excluded.replica
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("p", plugin.PluginId);
            command.Parameters.Add(new NpgsqlParameter("a", NpgsqlDbType.Text) { Value = (object?)plugin.Address ?? DBNull.Value });
            command.Parameters.AddWithValue("v", plugin.Version);
            command.Parameters.AddWithValue("k", plugin.KeepSettings);
            command.Parameters.AddWithValue("u", plugin.At);
            command.Parameters.AddWithValue("b", plugin.By);
            command.Parameters.AddWithValue("r", plugin.Replica);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await StoreNotices.SendAsync(connection, transaction, new StoreChange(replica.Id, replica.Name, kind, plugin.PluginId, string.Empty), cancellationToken).ConfigureAwait(false);
    }
}
