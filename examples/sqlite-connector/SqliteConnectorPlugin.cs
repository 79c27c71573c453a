using System.Text.Json.Nodes;
using GrpcPlugins.Sdk;
using Microsoft.Data.Sqlite;

namespace SqliteConnector;

/// <summary>
/// A connector with a native dependency: SQLite's own build (libe_sqlite3.so),
/// resolved by PluginWorker from this plugin's runtimes/linux-x64/native folder.
/// </summary>
public sealed class SqliteConnectorPlugin : IPlugin
{
    public string Id => "sqlite-connector";

    public string Version => "1.0.0";

    public void Configure(PluginBuilder plugin) => plugin.MapGet("/query", async ctx =>
    {
        await using var connection = new SqliteConnection("Data Source=:memory:");
        await connection.OpenAsync(ctx.Aborted);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version(), 6 * 7";
        await using var reader = await command.ExecuteReaderAsync(ctx.Aborted);
        await reader.ReadAsync(ctx.Aborted);
        await ctx.Response.WriteJsonAsync(new JsonObject
        {
            ["sqliteVersion"] = reader.GetString(0),
            ["answer"] = reader.GetInt64(1),
            ["computedBy"] = "native SQLite in pid " + Environment.ProcessId,
        }.ToJsonString());
    }, allowAnonymous: true);
}
