using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Settings;
using Microsoft.Data.Sqlite;

namespace GrpcPlugins.Host.Tests;

/// <summary>The store's contract on a real SQLite file, in a temp directory removed after each test.</summary>
public sealed class SqlitePluginStoreTests : PluginStoreContract, IDisposable
{
    private readonly SqliteFile _file = new("gpt-store-");

    private protected override IPluginStore OpenStore() => _file.Open();

    public void Dispose() => _file.Dispose();
}

/// <summary>The audit trail's contract on a real SQLite file.</summary>
public sealed class SqliteAuditTrailStoreTests : AuditTrailStoreContract, IDisposable
{
    private readonly SqliteFile _file = new("gpt-audit-");

    private protected override IPluginStore OpenStore() => _file.Open();

    [Fact]
    public async Task AnAuditTableWrittenBeforeReplicasExisted_GainsTheColumn_AndKeepsItsEntries()
    {
        using (var old = new SqliteConnection($"Data Source={_file.Path}"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, remote TEXT NOT NULL, action TEXT NOT NULL, plugin_id TEXT NOT NULL, tenant_id TEXT NOT NULL, status INTEGER NOT NULL, detail TEXT NOT NULL);
                INSERT INTO audit (at, actor, remote, action, plugin_id, tenant_id, status, detail) VALUES ('2026-12-01T00:00:00.0000000+00:00', 'admin', '', 'plugin.enable', 'p', '', 200, 'before');
                """;
            create.ExecuteNonQuery();
        }

        var store = _file.Open();
        await store.AppendAuditAsync(new AuditEntry(0, DateTimeOffset.UtcNow, "admin", "", "plugin.disable", "p", "", 200, "after", "pod-a"), 100, CancellationToken.None);

        Assert.Equal([("after", "pod-a"), ("before", "")], (await store.GetAuditAsync(new AuditQuery(null, null, null, 10), CancellationToken.None)).Select(e => (e.Detail, e.Replica)));
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>One test's SQLite file; every store opened on it is another host sharing it.</summary>
internal sealed class SqliteFile(string prefix) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path => System.IO.Path.Combine(_directory, "plugins.db");

    public SqlitePluginStore Open() => new(Path, TimeProvider.System);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
