using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Settings;
using Microsoft.Data.Sqlite;

namespace GrpcPlugins.Host.Tests;

/// <summary>The check on a real SQLite store (a file in a temp directory, removed after each test).</summary>
public sealed class StoredSettingsCheckTests : IDisposable
{
    private const string Schema = """{"type":"object","properties":{"greeting":{"type":"string","maxLength":5},"limit":{"type":"integer"}},"required":["greeting"]}""";
    private readonly string _directory = Directory.CreateTempSubdirectory("gpt-check-").FullName;
    private readonly SqlitePluginStore _store;
    private readonly StoredSettingsCheck _check;

    public StoredSettingsCheckTests()
    {
        _store = new SqlitePluginStore(Path.Combine(_directory, "state.db"), TimeProvider.System);
        _check = new StoredSettingsCheck(_store, new SettingsValidator());
    }

    [Fact]
    public async Task NothingStored_ForARequiredSetting_IsReportedAsMissing_OnThePluginWideScope()
    {
        var problem = await _check.FindAsync(Manifest(Schema), CancellationToken.None);

        Assert.NotNull(problem);
        Assert.Equal("required settings missing: greeting", problem.What);
        Assert.Equal("PUT /admin/api/plugins/p/settings", problem.Calls("p"));
    }

    [Fact]
    public async Task ATenantsSettingsTheSchemaRefuses_AreReported_WithThatTenantsCall()
    {
        await _store.PutSettingsAsync("p", string.Empty, """{"greeting":"hi"}""", null, CancellationToken.None);
        await _store.PutSettingsAsync("p", "acme corp", """{"greeting":"far too long","limit":"ten"}""", null, CancellationToken.None);
        await _store.PutSettingsAsync("p", "other", """{"greeting":"ok"}""", null, CancellationToken.None);

        var problem = await _check.FindAsync(Manifest(Schema), CancellationToken.None);

        Assert.NotNull(problem);
        Assert.StartsWith("stored settings do not match the schema of 1.0.0 (tenant 'acme corp': ", problem.What, StringComparison.Ordinal);
        Assert.Contains("/greeting StringTooLong", problem.What, StringComparison.Ordinal);
        Assert.Contains("/limit IntegerExpected", problem.What, StringComparison.Ordinal);
        Assert.DoesNotContain("other", problem.What, StringComparison.Ordinal);
        Assert.Equal("PUT /admin/api/plugins/p/settings?tenant=acme%20corp", problem.Calls("p"));
    }

    [Fact]
    public async Task SettingsThatMatch_OrNoSchemaInTheManifest_AreNoProblem()
    {
        await _store.PutSettingsAsync("p", string.Empty, """{"greeting":"hi","limit":3}""", null, CancellationToken.None);

        Assert.Null(await _check.FindAsync(Manifest(Schema), CancellationToken.None));
        Assert.Null(await _check.FindAsync(Manifest(null), CancellationToken.None));
    }

    public void Dispose()
    {
        // Pooled connections keep the file open; release them so the directory can go.
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static PluginManifest Manifest(string? schema) =>
        ManifestReader.Parse($$"""{"id":"p","version":"1.0.0","command":"x"{{(schema is null ? "" : ",\"settingsSchema\":" + schema)}}}""", "/p/p", out var errors)
            ?? throw new InvalidOperationException(string.Join(" ", errors));
}
