using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks.Tenancy;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Tests;

/// <summary>Each plugin's tenant scope against the host's default, kept in a real SQLite file (removed after each test).</summary>
public sealed class TenantScopesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gpt-scopes-").FullName;

    [Fact]
    public async Task APluginNoAdminScoped_HasTheHostsDefault_AndAnAdminsEveryTenant_OutlivesARestart()
    {
        using (var scopes = await LoadAsync())
        {
            Assert.Equal("no tenant (the host's default)", scopes.Describe("p"));
            Assert.False(scopes.For("p").Takes("acme"));
            Assert.Null(scopes.SetByAdmin("p"));

            await scopes.SetAsync("p", TenantScope.All, "admin", CancellationToken.None);
        }

        using var reloaded = await LoadAsync();
        Assert.True(reloaded.For("p").Takes("acme"));
        Assert.Equal("every tenant", reloaded.Describe("p"));
        Assert.False(reloaded.For("q").Takes("acme"));
    }

    [Fact]
    public async Task AReset_GivesThePluginTheDefaultAgain_OnDiskToo()
    {
        using (var scopes = await LoadAsync())
        {
            await scopes.SetAsync("p", new TenantScope(TenantScopeMode.Only, ["acme"]), "admin", CancellationToken.None);
            await scopes.ResetAsync("p", "admin", CancellationToken.None);

            Assert.Null(scopes.SetByAdmin("p"));
            Assert.False(scopes.For("p").Takes("acme"));
        }

        using var reloaded = await LoadAsync();
        Assert.Null(reloaded.SetByAdmin("p"));
    }

    [Fact]
    public async Task WithoutADefault_EveryTenantIsTaken_AndSaidAsBefore()
    {
        using var scopes = await LoadAsync(new DefaultTenantScopeOptions());

        Assert.True(scopes.For("p").Takes("acme"));
        Assert.Equal("every tenant", scopes.Describe("p"));
    }

    [Fact]
    public void TheDefault_IsReadFromConfiguration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PluginHost:DefaultTenantScope:Mode"] = "except",
            ["PluginHost:DefaultTenantScope:Tenants:0"] = "trial",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPluginHost();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<PluginHostOptions>>().Value;

        Assert.Equal("all but trial", options.DefaultTenantScope.ToScope().Describe());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<TenantScopes> LoadAsync(DefaultTenantScopeOptions? defaultScope = null)
    {
        var options = Options.Create(new PluginHostOptions { DefaultTenantScope = defaultScope ?? new DefaultTenantScopeOptions { Mode = TenantScopeMode.Only } });
        var store = new SqlitePluginStore(Path.Combine(_directory, "state.db"), TimeProvider.System);
        var events = new LifecycleEvents(new PluginMetrics(new TestMeterFactory(), new PluginCatalog(), new Routes.WebSockets.OpenWebSockets()), NullLogger<LifecycleEvents>.Instance, TimeProvider.System);
        var scopes = new TenantScopes(store, events, options, NullLogger<TenantScopes>.Instance);
        await scopes.LoadAsync(CancellationToken.None);
        return scopes;
    }
}
