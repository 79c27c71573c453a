using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Replicas;
using GrpcPlugins.Host.Settings;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrpcPlugins.Host.Tests;

/// <summary>A single host's SQLite state moved into a real PostgreSQL store, as a host growing into replicas does.</summary>
public sealed class SqliteImportTests(PostgresServer server) : IClassFixture<PostgresServer>, IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("gpt-import-").FullName;

    [Fact]
    public async Task AnImport_CarriesEveryRowAndTheKeyRing_SoSealedSecretsOpenOnTheReplicas()
    {
        var secrets = SealedSecrets.Create(_state, NullLogger<SealedSecrets>.Instance);
        var sqlite = new SqlitePluginStore(Path.Combine(_state, "plugins.db"), TimeProvider.System, secrets);
        await sqlite.PutSettingsAsync("p", "", secrets.Seal("""{"password":"hunter2"}""", new HashSet<string> { "/password" }), null, default);
        await sqlite.PutSettingsAsync("p", "", secrets.Seal("""{"password":"hunter3"}""", new HashSet<string> { "/password" }), null, default);
        await sqlite.PutSettingsAsync("p", "acme", "{}", null, default);
        await sqlite.SetEnabledAsync("p", false, default);
        await sqlite.SetTenantScopeAsync("p", """{"only":["acme"]}""", default);
        await sqlite.RecordInstallAsync(new InstallRecord("p", "1.0.0", "sha256:aa", "publisher", DateTimeOffset.UtcNow, "admin"), default);
        await sqlite.KeepDescribedSchemaAsync(new DescribedSchema("p", "1.0.0", """{"type":"object"}""", DateTimeOffset.UtcNow), default);
        for (var n = 1; n <= 3; n++)
        {
            await sqlite.AppendAuditAsync(new AuditEntry(0, DateTimeOffset.UtcNow, "admin", "", "settings.put", "p", "", 200, $"#{n}"), 100, default);
        }

        var database = server.CreateDatabase();

        var counts = await SqliteImport.ImportAsync(_state, database, default);

        Assert.Equal(new ImportCounts(Settings: 2, Revisions: 3, Installs: 1, EnabledStates: 1, TenantScopes: 1, AuditEntries: 3, Keys: 1, DescribedSchemas: 1), counts);
        using var replica = new PostgresDatabaseOn(database);
        var shared = SealedSecrets.CreateShared(new PostgresKeyRing(replica.Source, TimeProvider.System), "test", null, NullLogger<SealedSecrets>.Instance);
        var store = new PostgresPluginStore(replica.Source, ReplicaIdentity.New("test"), TimeProvider.System, shared);
        var settings = await store.GetSettingsAsync("p", "", default);
        Assert.Equal(("""{"password":"hunter3"}""", 2L), (settings!.Json, settings.Revision));
        Assert.Equal([2L, 1L], (await store.GetSettingsRevisionsAsync("p", "", default)).Select(r => r.Revision));
        Assert.False(await store.GetEnabledAsync("p", default));
        Assert.Equal("""{"only":["acme"]}""", (await store.GetTenantScopesAsync(default))["p"]);
        Assert.Equal("1.0.0", Assert.Single(await store.GetInstallsAsync("p", default)).Version);
        Assert.Equal(("p", "1.0.0", """{"type":"object"}"""), Assert.Single(await store.GetDescribedSchemasAsync(default)) is var kept ? (kept.PluginId, kept.Version, kept.SchemaJson) : default);
        // The audit trail keeps its ids, and the next entry follows them.
        await store.AppendAuditAsync(new AuditEntry(0, DateTimeOffset.UtcNow, "admin", "", "plugin.enable", "p", "", 200, "#4"), 100, default);
        Assert.Equal([4L, 3L, 2L, 1L], (await store.GetAuditAsync(new AuditQuery(null, null, null, 10), default)).Select(e => e.Id));
    }

    [Fact]
    public async Task AnImport_IntoAStoreThatHoldsState_IsRefused_AndAddsNothing()
    {
        var sqlite = new SqlitePluginStore(Path.Combine(_state, "plugins.db"), TimeProvider.System);
        await sqlite.PutSettingsAsync("p", "", "{}", null, default);
        var database = server.CreateDatabase();
        await SqliteImport.ImportAsync(_state, database, default);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SqliteImport.ImportAsync(_state, database, default));
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => SqliteImport.ImportAsync(Path.Combine(_state, "nowhere"), database, default));

        Assert.Contains("already holds state (2 rows): an import goes into an empty database only", refused.Message, StringComparison.Ordinal);
        Assert.Contains("plugins.db does not exist: name the state directory", missing.Message, StringComparison.Ordinal);
        using var replica = new PostgresDatabaseOn(database);
        Assert.Single(await new PostgresPluginStore(replica.Source, ReplicaIdentity.New("test"), TimeProvider.System).GetAllSettingsAsync("p", default));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_state, recursive: true);
    }

    private sealed class PostgresDatabaseOn(string connectionString) : IDisposable
    {
        public Npgsql.NpgsqlDataSource Source { get; } = Npgsql.NpgsqlDataSource.Create(connectionString);

        public void Dispose() => Source.Dispose();
    }
}
