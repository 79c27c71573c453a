using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Replicas;
using GrpcPlugins.Host.Settings;
using Npgsql;

namespace GrpcPlugins.Host.Tests;

/// <summary>The store's contract on a real PostgreSQL server (private to the class), a database per test.</summary>
public sealed class PostgresPluginStoreTests(PostgresServer server) : PluginStoreContract, IClassFixture<PostgresServer>, IDisposable
{
    private readonly PostgresDatabase _database = new(server);

    private protected override IPluginStore OpenStore() => _database.Open();

    public void Dispose() => _database.Dispose();
}

/// <summary>The audit trail's contract on a real PostgreSQL server.</summary>
public sealed class PostgresAuditTrailStoreTests(PostgresServer server) : AuditTrailStoreContract, IClassFixture<PostgresServer>, IDisposable
{
    private readonly PostgresDatabase _database = new(server);

    private protected override IPluginStore OpenStore() => _database.Open();

    public void Dispose() => _database.Dispose();
}

/// <summary>One test's database, its schema made as a starting host makes it; each store opened on it is another replica.</summary>
internal sealed class PostgresDatabase : IDisposable
{
    private readonly List<NpgsqlDataSource> _sources = [];

    public PostgresDatabase(PostgresServer server)
    {
        ConnectionString = server.CreateDatabase();
        PostgresSchema.EnsureAsync(Source(), CancellationToken.None).GetAwaiter().GetResult();
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource Source()
    {
        var source = NpgsqlDataSource.Create(ConnectionString);
        _sources.Add(source);
        return source;
    }

    public PostgresPluginStore Open(SealedSecrets? secrets = null) => new(Source(), ReplicaIdentity.New("test"), TimeProvider.System, secrets);

    public void Dispose()
    {
        foreach (var source in _sources)
        {
            source.Dispose();
        }
    }
}
