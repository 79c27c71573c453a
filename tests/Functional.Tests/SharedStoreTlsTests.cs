using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A shared store reached as a managed PostgreSQL is: over TCP with TLS only, the server's
/// certificate from a private CA (a real server, real certificates, real hosts).
/// </summary>
public sealed class SharedStoreTlsTests : IDisposable
{
    private readonly string _pki = Directory.CreateTempSubdirectory("gpt-pki-").FullName;

    [Fact]
    public async Task ReplicasOnAStoreThatRequiresTls_ShareWhatAnAdminChanges_AndAHostThatDoesNotTrustItOrSpeaksPlainText_SaysWhyAtOnce()
    {
        var authority = TestPki.Create(_pki, "db");
        var (certificate, key) = authority.IssueServer("db");
        using var server = PostgresServer.WithTls(certificate, key);
        var database = server.CreateDatabase();
        var verified = server.OverTcp(database, $"SSL Mode=VerifyFull;Root Certificate={authority.CaPath}");

        await using (var one = await Replica(verified, "pod-a"))
        await using (var other = await Replica(verified, "pod-b"))
        {
            await Task.WhenAll(one.WaitForStateAsync("t", WorkerState.Ready), other.WaitForStateAsync("t", WorkerState.Ready));
            (await one.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"greeting":"over tls"}"""))).EnsureSuccessStatusCode();
            await ReplicaTests.Until(async () => (await other.Admin.GetStringAsync("/plugins/t/last-configured")).Contains("over tls", StringComparison.Ordinal), "the setting on pod-b");
            var store = await other.Admin.GetFromJsonAsync<JsonElement>("/admin/api/store");
            Assert.True(store.GetProperty("listening").GetBoolean());
        }

        var stranger = TestPki.Create(_pki, "stranger");
        var untrusted = await Refused(server.OverTcp(database, $"SSL Mode=VerifyFull;Root Certificate={stranger.CaPath}"));
        var plain = await Refused(server.OverTcp(database, "SSL Mode=Disable"));

        Assert.StartsWith("The host cannot use its PostgreSQL store (PluginHost:Store:PostgreSqlConnectionString): TLS with the server failed (", untrusted, StringComparison.Ordinal);
        Assert.Contains("Root Certificate", untrusted, StringComparison.Ordinal);
        Assert.StartsWith("The host cannot use its PostgreSQL store (PluginHost:Store:PostgreSqlConnectionString): the server refused this host's login (", plain, StringComparison.Ordinal);
        Assert.Contains("no encryption", plain, StringComparison.Ordinal);
        Assert.Contains("'hostssl' line there needs SSL Mode=Require or stricter", plain, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_pki, recursive: true);

    private static Task<TestHost> Replica(string connectionString, string name) =>
        TestHost.StartAsync([PluginFolders.Test("t")], o =>
        {
            o.Store.PostgreSqlConnectionString = connectionString;
            o.Store.ReplicaName = name;
        });

    /// <summary>Starts a host that must be refused; its message. Retries would not help, so none wait out the long ConnectTimeout.</summary>
    private static async Task<string> Refused(string connectionString)
    {
        var started = TestHost.StartAsync([PluginFolders.Test("t")], o =>
        {
            o.Store.PostgreSqlConnectionString = connectionString;
            o.Store.ConnectTimeout = TimeSpan.FromSeconds(60);
        });
        return (await Assert.ThrowsAsync<InvalidOperationException>(() => started)).Message;
    }
}
