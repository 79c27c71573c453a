using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// The shared store's tables, created by whichever replica starts first. Replicas starting
/// together take turns on an advisory lock (CREATE TABLE IF NOT EXISTS alone races), and the
/// schema's version is kept, so a replica older than the database refuses to start rather than
/// write rows a newer one reads differently.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>
    /// The version this host writes and reads. Tables added since (cluster_plugins,
    /// bundle_chunks, described_schemas) left it at 1: a host without them never reads them,
    /// and reads nothing of its own differently.
    /// </summary>
    public const int Version = 1;

    // Any constant, the same in every replica: pg_advisory_xact_lock's key for "creating the schema".
    private const long CreationLock = 0x6770_6C75_6769_6E73;

    public static async Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(@lock);
            CREATE TABLE IF NOT EXISTS store_schema (version integer NOT NULL);
            INSERT INTO store_schema (version) SELECT @version WHERE NOT EXISTS (SELECT 1 FROM store_schema);
            CREATE TABLE IF NOT EXISTS settings (
                plugin_id text NOT NULL,
                tenant_id text NOT NULL,
                json text NOT NULL,
                revision bigint NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (plugin_id, tenant_id));
            CREATE TABLE IF NOT EXISTS settings_history (
                plugin_id text NOT NULL,
                tenant_id text NOT NULL,
                revision bigint NOT NULL,
                json text NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (plugin_id, tenant_id, revision));
            CREATE TABLE IF NOT EXISTS installs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                plugin_id text NOT NULL,
                version text NOT NULL,
                address text NOT NULL,
                signer text NOT NULL,
                installed_at timestamptz NOT NULL,
                installed_by text NOT NULL);
            CREATE TABLE IF NOT EXISTS plugin_state (
                plugin_id text PRIMARY KEY,
                enabled boolean NOT NULL,
                updated_at timestamptz NOT NULL);
            CREATE TABLE IF NOT EXISTS tenant_scope (
                plugin_id text PRIMARY KEY,
                scope text NOT NULL,
                updated_at timestamptz NOT NULL);
            CREATE TABLE IF NOT EXISTS audit (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at timestamptz NOT NULL,
                actor text NOT NULL,
                remote text NOT NULL,
                action text NOT NULL,
                plugin_id text NOT NULL,
                tenant_id text NOT NULL,
                status integer NOT NULL,
                detail text NOT NULL,
                replica text NOT NULL DEFAULT '');
            CREATE INDEX IF NOT EXISTS audit_by_plugin ON audit (plugin_id, id);
            CREATE TABLE IF NOT EXISTS cluster_plugins (
                plugin_id text PRIMARY KEY,
                address text,
                version text NOT NULL,
                keep_settings boolean NOT NULL,
                changed_at timestamptz NOT NULL,
                changed_by text NOT NULL,
                replica text NOT NULL);
            CREATE TABLE IF NOT EXISTS bundle_chunks (
                address text NOT NULL,
                seq integer NOT NULL,
                data bytea NOT NULL,
                PRIMARY KEY (address, seq));
            CREATE TABLE IF NOT EXISTS staged_bundles (
                address text PRIMARY KEY,
                staged_at timestamptz NOT NULL,
                staged_by text NOT NULL,
                replica text NOT NULL);
            CREATE TABLE IF NOT EXISTS described_schemas (
                plugin_id text NOT NULL,
                version text NOT NULL,
                schema text NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (plugin_id, version));
            CREATE TABLE IF NOT EXISTS key_ring (
                name text PRIMARY KEY,
                xml text NOT NULL,
                added_at timestamptz NOT NULL);
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("lock", CreationLock);
            command.Parameters.AddWithValue("version", Version);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var check = new NpgsqlCommand("SELECT max(version) FROM store_schema", connection, transaction))
        {
            if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int stored && stored > Version)
            {
                throw new InvalidOperationException($"The PostgreSQL store's schema is version {stored}, newer than this host's ({Version}): a newer host replica created it. Upgrade this host to the others' version; it must not write rows it would read differently.");
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
