using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Replicas;

/// <summary>Each scope's latest settings revisions, as the SQLite store keeps them (<see cref="SqlitePluginStore.RevisionsKept"/>).</summary>
internal sealed partial class PostgresPluginStore
{
    public async Task<IReadOnlyList<StoredSettings>> GetSettingsRevisionsAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT json, revision, updated_at FROM settings_history WHERE plugin_id = @p AND tenant_id = @t ORDER BY revision DESC");
        command.Parameters.AddWithValue("p", pluginId);
        command.Parameters.AddWithValue("t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var revisions = new List<StoredSettings>();
        while (await ReadStoredAsync(reader, pluginId, tenantId, cancellationToken).ConfigureAwait(false) is { } revision)
        {
            revisions.Add(revision);
        }

        return revisions;
    }
}
