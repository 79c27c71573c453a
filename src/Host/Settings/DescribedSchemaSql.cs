namespace GrpcPlugins.Host.Settings;

/// <summary>
/// The statement that keeps a described schema, the same on SQLite and PostgreSQL: one version's row
/// replaced, then all but the plugin's newest kept.
/// </summary>
internal static class DescribedSchemaSql
{
    public const string Keep = """
        INSERT INTO described_schemas (plugin_id, version, schema, updated_at) VALUES (@p, @v, @s, @u)
        ON CONFLICT (plugin_id, version) DO UPDATE SET schema = excluded.schema, updated_at = excluded.updated_at;
        DELETE FROM described_schemas WHERE plugin_id = @p AND version NOT IN (
            SELECT version FROM described_schemas WHERE plugin_id = @p ORDER BY updated_at DESC LIMIT @kept);
        """;
}
