using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Tests;

/// <summary>The store's contract, which the SQLite and the PostgreSQL store must both keep: each test runs on both.</summary>
public abstract class PluginStoreContract
{
    /// <summary>A store on this test's state; each call is another host sharing it.</summary>
    private protected abstract IPluginStore OpenStore();

    [Fact]
    public async Task SealStored_RewritesEveryRowOfThePluginTheSealChanges_CurrentAndKeptRevisions_KeepingTheirRevisions()
    {
        var store = OpenStore();
        await store.PutSettingsAsync("p", "", """{"key":"clear","n":1}""", null, CancellationToken.None);
        await store.PutSettingsAsync("p", "", """{"key":"clear","n":2}""", null, CancellationToken.None);
        await store.PutSettingsAsync("p", "acme", """{"n":3}""", null, CancellationToken.None);
        await store.PutSettingsAsync("other", "", """{"key":"clear"}""", null, CancellationToken.None);

        var rewritten = await store.SealStoredAsync("p", json => json.Replace("\"clear\"", "\"sealed\"", StringComparison.Ordinal), CancellationToken.None);
        var again = await store.SealStoredAsync("p", json => json.Replace("\"clear\"", "\"sealed\"", StringComparison.Ordinal), CancellationToken.None);

        // The current plugin-wide row and its two kept revisions; acme's rows had nothing to seal.
        Assert.Equal(3, rewritten);
        Assert.Equal(0, again);
        Assert.Equal(("""{"key":"sealed","n":2}""", 2L), await store.GetSettingsAsync("p", "", CancellationToken.None) is { } current ? (current.Json, current.Revision) : default);
        Assert.Equal(["""{"key":"sealed","n":2}""", """{"key":"sealed","n":1}"""], (await store.GetSettingsRevisionsAsync("p", "", CancellationToken.None)).Select(r => r.Json));
        Assert.Equal("""{"key":"clear"}""", (await store.GetSettingsAsync("other", "", CancellationToken.None))!.Json);
    }

    [Fact]
    public async Task DescribedSchemas_EachVersionKeepsItsOwn_TheNewestFourAreKept_AndAnUninstallDropsThem()
    {
        var start = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
        var store = OpenStore();
        for (var minor = 0; minor < 6; minor++)
        {
            await store.KeepDescribedSchemaAsync(new DescribedSchema("p", $"1.{minor}.0", $$"""{"title":"v{{minor}}"}""", start.AddMinutes(minor)), CancellationToken.None);
        }

        await store.KeepDescribedSchemaAsync(new DescribedSchema("p", "1.5.0", """{"title":"v5 again"}""", start.AddMinutes(10)), CancellationToken.None);
        await store.KeepDescribedSchemaAsync(new DescribedSchema("other", "2.0.0", string.Empty, start), CancellationToken.None);

        // Read through another host sharing the store, as a replica starting later would.
        var kept = (await OpenStore().GetDescribedSchemasAsync(CancellationToken.None)).OrderBy(s => s.PluginId, StringComparer.Ordinal).ThenBy(s => s.Version, StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["other 2.0.0 ", """p 1.2.0 {"title":"v2"}""", """p 1.3.0 {"title":"v3"}""", """p 1.4.0 {"title":"v4"}""", """p 1.5.0 {"title":"v5 again"}"""],
            kept.Select(s => $"{s.PluginId} {s.Version} {s.SchemaJson}"));
        Assert.Equal(start.AddMinutes(10), kept.Single(s => s.Version == "1.5.0").At);

        await store.DeletePluginAsync("p", CancellationToken.None);

        Assert.Equal(["other"], (await store.GetDescribedSchemasAsync(CancellationToken.None)).Select(s => s.PluginId));
    }

    [Fact]
    public async Task AWriteThatExpectsARevision_CommitsOnlyOverThatRevision_InTheStoreItself()
    {
        // Two stores on one file: two hosts sharing it, with no lock in common.
        var one = OpenStore();
        var other = OpenStore();

        var created = await one.PutSettingsAsync("p", "", "{\"v\":1}", expectedRevision: 0, CancellationToken.None);
        var createdAgain = await other.PutSettingsAsync("p", "", "{\"v\":2}", expectedRevision: 0, CancellationToken.None);
        var next = await other.PutSettingsAsync("p", "", "{\"v\":3}", expectedRevision: 1, CancellationToken.None);
        var stale = await one.PutSettingsAsync("p", "", "{\"v\":4}", expectedRevision: 1, CancellationToken.None);
        var unconditional = await one.PutSettingsAsync("p", "", "{\"v\":5}", expectedRevision: null, CancellationToken.None);

        Assert.Equal(1, created);
        Assert.Null(createdAgain);
        Assert.Equal(2, next);
        Assert.Null(stale);
        Assert.Equal(3, unconditional);
        Assert.Equal("{\"v\":5}", (await other.GetSettingsAsync("p", "", CancellationToken.None))!.Json);
    }

    [Fact]
    public async Task Usage_CountsTheOtherTenantsAndTheirUtf8Bytes_NotThePluginWideScopeAsATenant()
    {
        var store = OpenStore();
        await store.PutSettingsAsync("p", "", "{}", null, CancellationToken.None);
        await store.PutSettingsAsync("p", "a", "{\"n\":\"é\"}", null, CancellationToken.None);
        await store.PutSettingsAsync("p", "b", "{\"n\":1}", null, CancellationToken.None);
        await store.PutSettingsAsync("other", "c", "{\"n\":12345}", null, CancellationToken.None);

        Assert.Equal(new SettingsUsage(2, 2 + 10 + 7), (await store.GetSettingsForWriteAsync("p", "none", CancellationToken.None)).Others);
        Assert.Equal(new SettingsUsage(1, 2 + 7), (await store.GetSettingsForWriteAsync("p", "a", CancellationToken.None)).Others);
        Assert.Equal(new SettingsUsage(2, 10 + 7), (await store.GetSettingsForWriteAsync("p", "", CancellationToken.None)).Others);
        Assert.Equal(new SettingsUsage(0, 0), (await store.GetSettingsForWriteAsync("nobody", "", CancellationToken.None)).Others);
    }

    [Fact]
    public async Task ATenantsSettings_AreListedWithoutTheirJson_AndDeletedAlone()
    {
        var store = OpenStore();
        await store.PutSettingsAsync("p", "", "{}", null, CancellationToken.None);
        await store.PutSettingsAsync("p", "a", "{\"n\":1}", null, CancellationToken.None);
        await store.PutSettingsAsync("p", "a", "{\"n\":22}", null, CancellationToken.None);
        await store.PutSettingsAsync("p", "b", "{}", null, CancellationToken.None);

        var listed = await store.ListSettingsScopesAsync("p", CancellationToken.None);
        var deleted = await store.DeleteSettingsAsync("p", "a", CancellationToken.None);
        var deletedAgain = await store.DeleteSettingsAsync("p", "a", CancellationToken.None);

        Assert.Equal([("", 1L, 2L), ("a", 2L, 8L), ("b", 1L, 2L)], listed.Select(s => (s.TenantId, s.Revision, s.Bytes)));
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Equal(["", "b"], (await store.ListSettingsScopesAsync("p", CancellationToken.None)).Select(s => s.TenantId));
    }

    [Fact]
    public async Task EachCommittedWrite_IsKeptAsARevision_TheLastTenNewestFirst_ARefusedOneNot_AndDeletionTakesThemAlong()
    {
        var store = OpenStore();
        for (var n = 1; n <= 12; n++)
        {
            await store.PutSettingsAsync("p", "a", $"{{\"v\":{n}}}", null, CancellationToken.None);
        }

        var stale = await store.PutSettingsAsync("p", "a", "{\"v\":99}", expectedRevision: 3, CancellationToken.None);
        await store.PutSettingsAsync("p", "b", "{}", null, CancellationToken.None);
        await store.PutSettingsAsync("q", "a", "{}", null, CancellationToken.None);
        var kept = await store.GetSettingsRevisionsAsync("p", "a", CancellationToken.None);
        await store.DeleteSettingsAsync("p", "a", CancellationToken.None);
        var afterTenantDeleted = await store.GetSettingsRevisionsAsync("p", "a", CancellationToken.None);
        await store.DeletePluginAsync("p", CancellationToken.None);

        Assert.Null(stale);
        Assert.Equal(Enumerable.Range(3, 10).Reverse().Select(n => (long)n), kept.Select(r => r.Revision));
        Assert.Equal("{\"v\":12}", kept[0].Json);
        Assert.Empty(afterTenantDeleted);
        Assert.Empty(await store.GetSettingsRevisionsAsync("p", "b", CancellationToken.None));
        Assert.Single(await store.GetSettingsRevisionsAsync("q", "a", CancellationToken.None));
    }

    [Fact]
    public async Task EnabledStates_TenantScopesAndInstalls_AreKept_AndAnUninstallDeletesAllButTheInstalls()
    {
        var store = OpenStore();
        var at = new DateTimeOffset(2026, 12, 5, 9, 30, 0, TimeSpan.FromHours(1));
        await store.SetEnabledAsync("p", false, CancellationToken.None);
        await store.SetEnabledAsync("p", true, CancellationToken.None);
        await store.SetEnabledAsync("q", false, CancellationToken.None);
        await store.SetTenantScopeAsync("p", "{\"only\":[\"acme\"]}", CancellationToken.None);
        await store.SetTenantScopeAsync("q", "{}", CancellationToken.None);
        await store.SetTenantScopeAsync("q", null, CancellationToken.None);
        await store.RecordInstallAsync(new InstallRecord("p", "1.0.0", "sha256:aa", "publisher", at, "admin"), CancellationToken.None);
        await store.RecordInstallAsync(new InstallRecord("p", "1.1.0", "sha256:bb", "publisher", at.AddMinutes(1), "ops"), CancellationToken.None);
        await store.PutSettingsAsync("p", "acme", "{}", null, CancellationToken.None);
        var other = OpenStore();

        Assert.True(await other.GetEnabledAsync("p", CancellationToken.None));
        Assert.False(await other.GetEnabledAsync("q", CancellationToken.None));
        Assert.Null(await other.GetEnabledAsync("never", CancellationToken.None));
        Assert.Equal(new Dictionary<string, string> { ["p"] = "{\"only\":[\"acme\"]}" }, await other.GetTenantScopesAsync(CancellationToken.None));
        Assert.Equal("{\"only\":[\"acme\"]}", await other.GetTenantScopeAsync("p", CancellationToken.None));
        Assert.Null(await other.GetTenantScopeAsync("q", CancellationToken.None));
        var installs = await other.GetInstallsAsync("p", CancellationToken.None);
        Assert.Equal(["1.0.0", "1.1.0"], installs.Select(i => i.Version));
        Assert.Equal(at.AddMinutes(1), installs[1].At);
        Assert.Equal(("sha256:bb", "publisher", "ops"), (installs[1].Address, installs[1].Signer, installs[1].By));

        await other.DeletePluginAsync("p", CancellationToken.None);

        Assert.Null(await store.GetEnabledAsync("p", CancellationToken.None));
        Assert.Empty(await store.GetTenantScopesAsync(CancellationToken.None));
        Assert.Null(await store.GetTenantScopeAsync("p", CancellationToken.None));
        Assert.Empty(await store.GetAllSettingsAsync("p", CancellationToken.None));
        Assert.Equal(2, (await store.GetInstallsAsync("p", CancellationToken.None)).Count);
    }
}
