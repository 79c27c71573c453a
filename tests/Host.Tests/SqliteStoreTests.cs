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

    public void Dispose() => _file.Dispose();
}

/// <summary>One test's SQLite file; every store opened on it is another host sharing it.</summary>
internal sealed class SqliteFile(string prefix) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory(prefix).FullName;

    public SqlitePluginStore Open() => new(Path.Combine(_directory, "plugins.db"), TimeProvider.System);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
