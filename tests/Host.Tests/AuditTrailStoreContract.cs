using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Tests;

/// <summary>The audit trail's table, which the SQLite and the PostgreSQL store must both keep: each test runs on both.</summary>
public abstract class AuditTrailStoreContract
{
    private static readonly DateTimeOffset s_at = new(2026, 12, 4, 23, 0, 0, TimeSpan.Zero);

    /// <summary>A store on this test's state; each call is another host sharing it.</summary>
    private protected abstract IPluginStore OpenStore();

    private static AuditEntry Entry(string pluginId, string action, int n) =>
        new(0, s_at.AddSeconds(n), "admin", "127.0.0.1", action, pluginId, n % 2 == 0 ? "acme" : string.Empty, 200, $"#{n}", n % 3 == 0 ? "pod-a" : string.Empty);

    [Fact]
    public async Task OnlyTheNewestEntriesAreKept_AndIdsAreNeverReused_SoAPageCursorStaysValid()
    {
        var store = OpenStore();
        for (var n = 1; n <= 150; n++)
        {
            await store.AppendAuditAsync(Entry("p", "plugin.enable", n), kept: 100, CancellationToken.None);
        }

        var all = await store.GetAuditAsync(new AuditQuery(null, null, null, 500), CancellationToken.None);
        await store.AppendAuditAsync(Entry("p", "plugin.enable", 151), kept: 100, CancellationToken.None);
        var newest = (await store.GetAuditAsync(new AuditQuery(null, null, null, 1), CancellationToken.None)).Single();

        Assert.Equal(100, all.Count);
        Assert.Equal(Enumerable.Range(51, 100).Reverse().Select(n => (long)n), all.Select(e => e.Id));
        Assert.Equal("#150", all[0].Detail);
        Assert.Equal(s_at.AddSeconds(150), all[0].At);
        Assert.Equal(151, newest.Id);
    }

    [Fact]
    public async Task APage_IsFilteredByPluginAndAction_NewestFirst_AndContinuesBeforeAnId()
    {
        var store = OpenStore();
        for (var n = 1; n <= 10; n++)
        {
            await store.AppendAuditAsync(Entry(n % 2 == 0 ? "a" : "b", n % 3 == 0 ? "settings.put" : "plugin.enable", n), kept: 1000, CancellationToken.None);
        }

        var a = await store.GetAuditAsync(new AuditQuery("a", null, null, 3), CancellationToken.None);
        var aNext = await store.GetAuditAsync(new AuditQuery("a", null, a[^1].Id, 3), CancellationToken.None);
        var puts = await store.GetAuditAsync(new AuditQuery(null, "settings.put", null, 10), CancellationToken.None);
        var aPuts = await store.GetAuditAsync(new AuditQuery("a", "settings.put", null, 10), CancellationToken.None);
        var nobody = await store.GetAuditAsync(new AuditQuery("nobody", null, null, 10), CancellationToken.None);

        Assert.Equal(["#10", "#8", "#6"], a.Select(e => e.Detail));
        Assert.Equal(["#4", "#2"], aNext.Select(e => e.Detail));
        Assert.Equal(["#9", "#6", "#3"], puts.Select(e => e.Detail));
        Assert.Equal(["#6"], aPuts.Select(e => e.Detail));
        Assert.Equal(new AuditEntry(6, s_at.AddSeconds(6), "admin", "127.0.0.1", "settings.put", "a", "acme", 200, "#6", "pod-a"), aPuts[0]);
        Assert.Empty(nobody);
    }

    [Fact]
    public async Task APage_IsFilteredByWhoActed_WithThePluginAndActionFilters()
    {
        var store = OpenStore();
        for (var n = 1; n <= 6; n++)
        {
            await store.AppendAuditAsync(Entry(n % 2 == 0 ? "a" : "b", "plugin.disable", n) with { Actor = n % 3 == 0 ? "grafana" : "alice" }, kept: 1000, CancellationToken.None);
        }

        var grafana = await store.GetAuditAsync(new AuditQuery(null, null, null, 10, "grafana"), CancellationToken.None);
        var aliceOnA = await store.GetAuditAsync(new AuditQuery("a", "plugin.disable", null, 10, "alice"), CancellationToken.None);
        var nobody = await store.GetAuditAsync(new AuditQuery(null, null, null, 10, "mallory"), CancellationToken.None);

        Assert.Equal(["#6", "#3"], grafana.Select(e => e.Detail));
        Assert.Equal(["#4", "#2"], aliceOnA.Select(e => e.Detail));
        Assert.Empty(nobody);
    }

    [Fact]
    public async Task UninstallingAPlugin_KeepsItsAuditEntries()
    {
        var store = OpenStore();
        await store.AppendAuditAsync(Entry("p", "plugin.uninstall", 1), kept: 100, CancellationToken.None);

        await store.DeletePluginAsync("p", CancellationToken.None);

        Assert.Single(await store.GetAuditAsync(new AuditQuery("p", null, null, 10), CancellationToken.None));
    }

    [Theory]
    [InlineData(99, false)]
    [InlineData(100, true)]
    public void AuditEntriesKept_UnderAHundred_IsRefusedSayingWhy(int kept, bool valid)
    {
        var result = new PluginHostOptionsValidator().Validate(null, new PluginHostOptions { AuditEntriesKept = kept });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("PluginHost:AuditEntriesKept is 99; use 100 or more", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
