using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Replicas;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Logging.Abstractions;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace GrpcPlugins.Host.Tests;

/// <summary>What replicas sharing a PostgreSQL store rely on beyond the store's contract: notices, the schema's version, one key ring.</summary>
public sealed class SharedStoreTests(PostgresServer server) : IClassFixture<PostgresServer>, IDisposable
{
    private readonly PostgresDatabase _database = new(server);

    [Fact]
    public async Task EachCommittedWrite_IsNoticedOnceItCommits_NamingItsReplica_AndARefusedWriteIsNot()
    {
        var store = _database.Open();
        await using var listener = await _database.Source().OpenConnectionAsync();
        var heard = new List<StoreChange>();
        listener.Notification += (_, e) => heard.Add(StoreChange.FromPayload(e.Payload)!);
        await using (var listen = new NpgsqlCommand($"LISTEN {StoreChange.Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await store.PutSettingsAsync("p", "acme", "{}", expectedRevision: 0, CancellationToken.None);
        await store.PutSettingsAsync("p", "acme", "{}", expectedRevision: 0, CancellationToken.None); // refused: revision 1 is there
        await store.DeleteSettingsAsync("p", "nobody", CancellationToken.None); // nothing to delete
        await store.DeleteSettingsAsync("p", "acme", CancellationToken.None);
        await store.SetEnabledAsync("p", false, CancellationToken.None);
        await store.SetTenantScopeAsync("p", null, CancellationToken.None);
        // Only history: the install's notice is the shared bundles' (SharedBundlesTests).
        await store.RecordInstallAsync(new InstallRecord("p", "1.0.0", "sha256:aa", "publisher", DateTimeOffset.UtcNow, "admin"), CancellationToken.None);
        await store.DeletePluginAsync("p", CancellationToken.None);
        using var enough = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (heard.Count < 5)
        {
            await listener.WaitAsync(enough.Token);
        }

        Assert.Equal(
            [(StoreChangeKind.Settings, "acme"), (StoreChangeKind.SettingsDeleted, "acme"), (StoreChangeKind.Enabled, ""), (StoreChangeKind.TenantScope, ""), (StoreChangeKind.PluginDeleted, "")],
            heard.Select(c => (c.Kind, c.TenantId)));
        Assert.All(heard, c => Assert.Equal((store.Origin, "test", "p"), (c.Origin, c.Replica, c.PluginId)));
        Assert.False(await listener.WaitAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void ANoticeOfAKindThisHostDoesNotKnow_ReadsAsNone()
    {
        Assert.Null(StoreChange.FromPayload("""{"origin":"8d4e3c52-0c4d-4a36-9f52-6a1b1b0c2a10","replica":"pod-a","kind":"quota","pluginId":"p","tenantId":""}"""));
        Assert.Equal(StoreChangeKind.SettingsDeleted, StoreChange.FromPayload(new StoreChange(Guid.NewGuid(), "pod-a", StoreChangeKind.SettingsDeleted, "p", "t").ToPayload())!.Kind);
    }

    [Fact]
    public async Task AHostOlderThanTheSchema_RefusesToStart_SayingToUpgradeIt()
    {
        await using (var newer = _database.Source().CreateCommand($"UPDATE store_schema SET version = {PostgresSchema.Version + 1}"))
        {
            await newer.ExecuteNonQueryAsync();
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresSchema.EnsureAsync(_database.Source(), CancellationToken.None));

        Assert.Contains($"version {PostgresSchema.Version + 1}, newer than this host's ({PostgresSchema.Version})", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Upgrade this host", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplicasStartingTogether_MakeTheSchemaOnce_WithoutRacing()
    {
        var fresh = new NpgsqlConnectionStringBuilder(server.CreateDatabase());
        var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(fresh.ConnectionString)).ToList();
        try
        {
            await Task.WhenAll(sources.Select(s => PostgresSchema.EnsureAsync(s, CancellationToken.None)));
            await using var rows = sources[0].CreateCommand("SELECT count(*) FROM store_schema");
            Assert.Equal(1L, await rows.ExecuteScalarAsync());
        }
        finally
        {
            sources.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public void ASecretSealedByOneReplica_OpensOnAnother_EvenWhenBothMadeAKeyAtOnce()
    {
        // The race of two replicas' first start: each read the ring before the other's key was
        // in it, so each made a key of its own and keeps the ring it read.
        var other = SealedSecrets.CreateShared(new PostgresKeyRing(_database.Source(), TimeProvider.System), "test", null, NullLogger<SealedSecrets>.Instance);
        var sealedByOther = other.Seal("""{"password":"first"}""", new HashSet<string> { "/password" });
        var one = SealedSecrets.CreateShared(new BlindAtFirst(new PostgresKeyRing(_database.Source(), TimeProvider.System)), "test", null, NullLogger<SealedSecrets>.Instance);

        var sealedByOne = one.Seal("""{"password":"hunter2","user":"sa"}""", new HashSet<string> { "/password" });

        Assert.DoesNotContain("hunter2", sealedByOne, StringComparison.Ordinal);
        Assert.Equal("""{"password":"hunter2","user":"sa"}""", other.Open(sealedByOne, "p", ""));
        Assert.Equal("""{"password":"first"}""", one.Open(sealedByOther, "p", ""));
    }

    [Fact]
    public void WithAKeyRingCertificate_TheDatabaseAloneOpensNoSecret_AndEveryReplicaWithTheCertificateDoes()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        using var certificate = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=key ring", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var one = SealedSecrets.CreateShared(new PostgresKeyRing(_database.Source(), TimeProvider.System), "test", certificate, NullLogger<SealedSecrets>.Instance);
        var other = SealedSecrets.CreateShared(new PostgresKeyRing(_database.Source(), TimeProvider.System), "test", certificate, NullLogger<SealedSecrets>.Instance);

        var sealedByOne = one.Seal("""{"password":"hunter2"}""", new HashSet<string> { "/password" });

        Assert.Equal("""{"password":"hunter2"}""", other.Open(sealedByOne, "p", ""));
        var stored = Assert.Single(new PostgresKeyRing(_database.Source(), TimeProvider.System).GetAllElements()).ToString();
        Assert.Contains("EncryptedData", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("<value>", stored, StringComparison.Ordinal);
        // A replica without the certificate (warned at its start) cannot open the key, so not the secret.
        var withoutIt = SealedSecrets.CreateShared(new PostgresKeyRing(_database.Source(), TimeProvider.System), "test", null, NullLogger<SealedSecrets>.Instance);
        Assert.Equal("{}", withoutIt.Open(sealedByOne, "p", ""));
    }

    public void Dispose() => _database.Dispose();

    /// <summary>A key ring whose first read misses what others stored: a read that raced their insert.</summary>
    private sealed class BlindAtFirst(IXmlRepository inner) : IXmlRepository
    {
        private bool _read;

        public IReadOnlyCollection<XElement> GetAllElements()
        {
            var all = inner.GetAllElements();
            var seen = _read ? all : [];
            _read = true;
            return seen;
        }

        public void StoreElement(XElement element, string friendlyName) => inner.StoreElement(element, friendlyName);
    }
}
