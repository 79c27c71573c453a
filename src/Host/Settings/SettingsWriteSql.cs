namespace GrpcPlugins.Host.Settings;

/// <summary>
/// A settings write as both stores make it: SQLite and PostgreSQL read the same upsert, so the
/// revision check lives in one statement for both (parameters @p, @t, @j, @u, @e).
/// </summary>
internal static class SettingsWriteSql
{
    public static string Put(long? expectedRevision) => expectedRevision switch
    {
        null => """
            INSERT INTO settings (plugin_id, tenant_id, json, revision, updated_at) VALUES (@p, @t, @j, 1, @u)
            ON CONFLICT (plugin_id, tenant_id) DO UPDATE SET json = excluded.json, revision = settings.revision + 1, updated_at = excluded.updated_at
            RETURNING revision
            """,
        0 => """
            INSERT INTO settings (plugin_id, tenant_id, json, revision, updated_at) VALUES (@p, @t, @j, 1, @u)
            ON CONFLICT (plugin_id, tenant_id) DO NOTHING
            RETURNING revision
            """,
        _ => """
            UPDATE settings SET json = @j, revision = revision + 1, updated_at = @u
            WHERE plugin_id = @p AND tenant_id = @t AND revision = @e
            RETURNING revision
            """,
    };
}
