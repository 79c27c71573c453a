using System.Globalization;
using Microsoft.Data.Sqlite;

namespace GrpcPlugins.Host.Settings;

/// <summary>The settings schemas plugins published only in Describe, kept so a host that restarts knows them before any start.</summary>
internal sealed partial class SqlitePluginStore
{
    public async Task<IReadOnlyList<DescribedSchema>> GetDescribedSchemasAsync(CancellationToken cancellationToken)
    {
        using var turn = await _turns.ReadAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT plugin_id, version, schema, updated_at FROM described_schemas";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var schemas = new List<DescribedSchema>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            schemas.Add(new DescribedSchema(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture)));
        }

        return schemas;
    }

    public async Task KeepDescribedSchemaAsync(DescribedSchema schema, CancellationToken cancellationToken)
    {
        using var turn = await _turns.WriteAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = DescribedSchemaSql.Keep;
        command.Parameters.AddWithValue("@p", schema.PluginId);
        command.Parameters.AddWithValue("@v", schema.Version);
        command.Parameters.AddWithValue("@s", schema.SchemaJson);
        command.Parameters.AddWithValue("@u", schema.At.ToUniversalTime().ToString("O"));
        command.Parameters.AddWithValue("@kept", DescribedSchema.VersionsKept);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void CreateDescribedSchemasTable(SqliteConnection connection) => Execute(connection, """
        CREATE TABLE IF NOT EXISTS described_schemas (
            plugin_id TEXT NOT NULL,
            version TEXT NOT NULL,
            schema TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (plugin_id, version));
        """);
}
