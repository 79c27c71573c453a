using System.Security.Cryptography;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Replicas;
using Npgsql;

namespace GrpcPlugins.Host.Tests;

/// <summary>What replicas install from: the bundles an admin installed on one, kept in the shared PostgreSQL store.</summary>
public sealed class SharedBundlesTests(PostgresServer server) : IClassFixture<PostgresServer>, IDisposable
{
    private readonly PostgresDatabase _database = new(server);
    private readonly string _work = Directory.CreateTempSubdirectory("gpt-shared-bundles-").FullName;

    [Fact]
    public async Task ABundleKeptInChunks_ComesBackByteForByte_AndOnlyTheOneAPluginRunsIsKept()
    {
        var shared = new PostgresSharedBundles(_database.Source(), ReplicaIdentity.New("pod-a"), TimeProvider.System);
        var first = Bundle("first", (2 << 20) + 12345); // three chunks, the last a partial one
        var second = Bundle("second", 10);

        await shared.InstalledAsync("p", "1.0.0", "sha256:1", first, "admin", CancellationToken.None);
        await shared.InstalledAsync("p", "1.0.0", "sha256:1", first, "admin", CancellationToken.None); // again: kept once
        Assert.Equal(3L, await ScalarAsync("SELECT count(*) FROM bundle_chunks WHERE address = 'sha256:1'"));
        var back = Path.Combine(_work, "back");
        Assert.True(await shared.FetchAsync("sha256:1", back, CancellationToken.None));
        Assert.Equal(await File.ReadAllBytesAsync(first), await File.ReadAllBytesAsync(back));
        var wanted = await shared.GetAsync("p", CancellationToken.None);
        Assert.Equal(("sha256:1", "1.0.0", "admin", "pod-a"), (wanted!.Address, wanted.Version, wanted.By, wanted.Replica));

        // An upgrade keeps the new bundle and drops the old one.
        await shared.InstalledAsync("p", "2.0.0", "sha256:2", second, "admin", CancellationToken.None);
        Assert.False(await shared.FetchAsync("sha256:1", back, CancellationToken.None));
        Assert.True(await shared.FetchAsync("sha256:2", back, CancellationToken.None));
        Assert.Equal(await File.ReadAllBytesAsync(second), await File.ReadAllBytesAsync(back));

        // An uninstall keeps no bundle, and says whether the settings went with it.
        await shared.UninstalledAsync("p", "2.0.0", keepSettings: false, "root", CancellationToken.None);
        var gone = await shared.GetAsync("p", CancellationToken.None);
        Assert.Equal((null, false, "root"), (gone!.Address, gone.KeepSettings, gone.By));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM bundle_chunks"));
        Assert.Equal([gone], await shared.ListAsync(CancellationToken.None));
        Assert.Null(await shared.GetAsync("never-installed", CancellationToken.None));
    }

    [Fact]
    public async Task AStagedBundle_IsKeptForItsLifetime_ForAnyReplicaToInstall_AndOutlivesTheUpgradeOfAnotherBundleOfItsPlugin()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var shared = new PostgresSharedBundles(_database.Source(), ReplicaIdentity.New("pod-a"), time);
        var lifetime = TimeSpan.FromHours(24);
        var running = Bundle("running", 10);
        var staged = Bundle("staged", 20);
        var back = Path.Combine(_work, "back");

        await shared.InstalledAsync("p", "1.0.0", "sha256:1", running, "admin", CancellationToken.None);
        await shared.StagedAsync("sha256:2", staged, "admin", lifetime, CancellationToken.None);
        await shared.StagedAsync("sha256:1", running, "admin", lifetime, CancellationToken.None); // staged again while it runs
        Assert.True(await shared.FetchAsync("sha256:2", back, CancellationToken.None));
        Assert.Equal(await File.ReadAllBytesAsync(staged), await File.ReadAllBytesAsync(back));

        // An uninstall drops the bundle the plugin ran, but not while it is also staged.
        await shared.UninstalledAsync("p", "1.0.0", keepSettings: true, "admin", CancellationToken.None);
        Assert.True(await shared.FetchAsync("sha256:1", back, CancellationToken.None));

        // Installed, a bundle is no longer staged; one never installed goes a lifetime after its upload, with the next upload.
        await shared.InstalledAsync("p", "2.0.0", "sha256:2", staged, "admin", CancellationToken.None);
        time.Advance(TimeSpan.FromHours(25));
        await shared.StagedAsync("sha256:3", Bundle("later", 5), "admin", lifetime, CancellationToken.None);

        Assert.False(await shared.FetchAsync("sha256:1", back, CancellationToken.None));
        Assert.True(await shared.FetchAsync("sha256:2", back, CancellationToken.None));
        Assert.True(await shared.FetchAsync("sha256:3", back, CancellationToken.None));
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM staged_bundles"));

        // A replica starting sweeps as an upload does.
        time.Advance(TimeSpan.FromHours(25));
        await shared.SweepStagedAsync(lifetime, CancellationToken.None);
        Assert.False(await shared.FetchAsync("sha256:3", back, CancellationToken.None));
        Assert.True(await shared.FetchAsync("sha256:2", back, CancellationToken.None));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM staged_bundles"));
    }

    [Fact]
    public async Task InstallsAndUninstalls_AreNoticedOnceTheyCommit_NamingTheirReplica()
    {
        var identity = ReplicaIdentity.New("pod-a");
        var shared = new PostgresSharedBundles(_database.Source(), identity, TimeProvider.System);
        await using var listener = await _database.Source().OpenConnectionAsync();
        var heard = new List<StoreChange>();
        listener.Notification += (_, e) => heard.Add(StoreChange.FromPayload(e.Payload)!);
        await using (var listen = new NpgsqlCommand($"LISTEN {StoreChange.Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await shared.InstalledAsync("p", "1.0.0", "sha256:1", Bundle("b", 100), "admin", CancellationToken.None);
        await shared.UninstalledAsync("p", "1.0.0", keepSettings: true, "admin", CancellationToken.None);
        using var enough = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (heard.Count < 2)
        {
            await listener.WaitAsync(enough.Token);
        }

        Assert.Equal([StoreChangeKind.Installed, StoreChangeKind.Uninstalled], heard.Select(c => c.Kind));
        Assert.All(heard, c => Assert.Equal((identity.Id, "pod-a", "p"), (c.Origin, c.Replica, c.PluginId)));
    }

    public void Dispose()
    {
        _database.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string Bundle(string name, int bytes)
    {
        var path = Path.Combine(_work, name);
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(bytes));
        return path;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = _database.Source().CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
