using System.Text.Json.Nodes;
using GrpcPlugins.Sdk;
using Microsoft.Data.Sqlite;

namespace SqliteConnector;

/// <summary>
/// A connector with a native dependency: SQLite's own build (libe_sqlite3.so),
/// resolved by PluginWorker from this plugin's runtimes/linux-x64/native folder.
/// It keeps a log of its queries on disk in its data directory, bounded, as a
/// connector's cache must be: past its data limit the host stops the plugin.
/// </summary>
public sealed class SqliteConnectorPlugin : IPlugin
{
    /// <summary>The log keeps this many queries; older ones are dropped as new ones come.</summary>
    private const int QueriesKept = 1000;

    public string Id => "sqlite-connector";

    public string Version => "1.0.0";

    public void Configure(PluginBuilder plugin)
    {
        // A host before data directories gave none: the log then lives in memory, per query.
        var log = plugin.DataDirectory is { } data ? $"Data Source={Path.Combine(data, "queries.db")};Default Timeout=5" : "Data Source=:memory:";
        plugin.MapGet("/query", async ctx =>
        {
            await using var connection = new SqliteConnection(log);
            await connection.OpenAsync(ctx.Aborted);
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE IF NOT EXISTS queries (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL);
                INSERT INTO queries (at) VALUES (datetime('now'));
                DELETE FROM queries WHERE id <= last_insert_rowid() - {QueriesKept};
                SELECT sqlite_version(), 6 * 7, (SELECT max(id) FROM queries);
                """;
            await using var reader = await command.ExecuteReaderAsync(ctx.Aborted);
            await reader.ReadAsync(ctx.Aborted);
            await ctx.Response.WriteJsonAsync(new JsonObject
            {
                ["sqliteVersion"] = reader.GetString(0),
                ["answer"] = reader.GetInt64(1),
                ["computedBy"] = "native SQLite in pid " + Environment.ProcessId,
                ["queriesSoFar"] = reader.GetInt64(2),
                ["dataLimitBytes"] = plugin.DataLimitBytes,
            }.ToJsonString());
        }, allowAnonymous: true);
    }
}
