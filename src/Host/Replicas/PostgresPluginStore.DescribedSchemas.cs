using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// The settings schemas plugins published only in Describe. No notice: every replica runs its
/// own worker of a plugin, which describes itself to it; the rows serve a replica that starts
/// while the plugin is not running anywhere.
/// </summary>
internal sealed partial class PostgresPluginStore
{
    public async Task<IReadOnlyList<DescribedSchema>> GetDescribedSchemasAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT plugin_id, version, schema, updated_at FROM described_schemas");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var schemas = new List<DescribedSchema>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            schemas.Add(new DescribedSchema(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return schemas;
    }

    public async Task KeepDescribedSchemaAsync(DescribedSchema schema, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(DescribedSchemaSql.Keep);
        command.Parameters.AddWithValue("p", schema.PluginId);
        command.Parameters.AddWithValue("v", schema.Version);
        command.Parameters.AddWithValue("s", schema.SchemaJson);
        command.Parameters.AddWithValue("u", schema.At.ToUniversalTime());
        command.Parameters.AddWithValue("kept", DescribedSchema.VersionsKept);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
