using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// A plugin writes its own settings for any tenant id it likes, and every start offers them
/// all back to it: what the host's store keeps of one plugin is bounded, for admins and plugins alike.
/// </summary>
public sealed class SettingsLimitsTests
{
    [Fact]
    public async Task AnAdminsSettingsOverTheDocumentLimit_Are413_AndNothingIsSaved()
    {
        var manifest = Writer("t");
        await using var host = await TestHost.StartAsync([manifest], o => o.MaxSettingsBytes = 100);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var refused = await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json(Note(200)));
        using var fits = await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json(Note(50)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("Nothing was saved: the settings are 211 bytes, over this host's limit of 100", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("PluginHost:MaxSettingsBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(1, (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings")).GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task APluginWritingSettingsForEverMoreTenants_IsRefusedAtTheLimit_AndMayStillRewriteWhatItHas()
    {
        await using var host = await TestHost.StartAsync([Writer("t")], o => o.MaxSettingsTenants = 2);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        Assert.Equal("revision 1", await PluginWritesAsync(host, "a", Note(5)));
        Assert.Equal("revision 1", await PluginWritesAsync(host, "b", Note(5)));
        var third = await PluginWritesAsync(host, "c", Note(5));
        Assert.Equal("revision 2", await PluginWritesAsync(host, "a", Note(6)));
        Assert.Equal("revision 1", await PluginWritesAsync(host, null, Note(5)));

        Assert.StartsWith("ResourceExhausted: nothing was saved: the plugin already has settings for 2 tenants", third, StringComparison.Ordinal);
        Assert.Equal(0, (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings?tenant=c")).GetProperty("revision").GetInt64());

        // An admin meets the same limit, as a 409 that says which.
        using var admin = await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=d", SettingsAndAdminTests.Json(Note(5)));
        Assert.Equal(HttpStatusCode.Conflict, admin.StatusCode);
        Assert.Contains("PluginHost:MaxSettingsTenants", await admin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAdmin_ListsAPluginsTenants_AndDeletesOne_ToMakeRoomUnderTheLimit()
    {
        await using var host = await TestHost.StartAsync([Writer("t")], o => o.MaxSettingsTenants = 2);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        await PluginWritesAsync(host, "a", Note(5));
        await PluginWritesAsync(host, "b", Note(10));
        await PluginWritesAsync(host, null, Note(1));
        Assert.StartsWith("ResourceExhausted", await PluginWritesAsync(host, "c", Note(5)), StringComparison.Ordinal);

        var listed = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings/tenants");
        using var deleted = await host.Admin.DeleteAsync("/admin/api/plugins/t/settings?tenant=a");
        using var again = await host.Admin.DeleteAsync("/admin/api/plugins/t/settings?tenant=a");
        using var pluginWide = await host.Admin.DeleteAsync("/admin/api/plugins/t/settings");
        var third = await PluginWritesAsync(host, "c", Note(5));
        var detail = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");

        Assert.Equal(["a", "b"], listed.GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("tenant").GetString()));
        Assert.Equal(21, listed.GetProperty("tenants")[1].GetProperty("bytes").GetInt64());
        Assert.Equal(2, listed.GetProperty("tenantCount").GetInt32());
        Assert.Equal(2, listed.GetProperty("maxTenants").GetInt32());
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, pluginWide.StatusCode);
        Assert.Equal("revision 1", third);
        Assert.Contains(detail.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "settings-deleted" && e.GetProperty("detail").GetString()!.StartsWith("tenant 'a' by ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APluginsSettingsTogether_StopAtThePerPluginLimit_CountingTheOtherScopesOnly()
    {
        await using var host = await TestHost.StartAsync([Writer("t")], o =>
        {
            o.MaxSettingsBytes = 1000;
            o.MaxSettingsBytesPerPlugin = 1500;
        });
        await host.WaitForStateAsync("t", WorkerState.Ready);

        Assert.Equal("revision 1", await PluginWritesAsync(host, "a", Note(800)));
        var second = await PluginWritesAsync(host, "b", Note(800));
        Assert.Equal("revision 2", await PluginWritesAsync(host, "a", Note(900)));

        Assert.StartsWith("ResourceExhausted: nothing was saved: the plugin's settings would take 1622 bytes, over this host's limit of 1500", second, StringComparison.Ordinal);
        // Too large stays too large: the host tells gRPC's retry (the Sdk's) not to try again.
        Assert.EndsWith("[pushback -1 ms]", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APluginWritingItsSettingsTooFast_IsRefusedPastItsBurst_AndToldWhenToRetry_WhileAdminsAreNotPaced()
    {
        await using var host = await TestHost.StartAsync([Writer("t")], o =>
        {
            o.SettingsWritesPerSecond = 1;
            o.SettingsWriteBurst = 3;
        });
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var answers = new List<string>();
        for (var i = 1; i <= 8; i++)
        {
            // Its own gRPC client, as a plugin in another language has: the Sdk would wait and retry.
            answers.Add(await PluginWritesAsync(host, null, Note(i), raw: true));
        }

        using var admin = await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json(Note(20)));
        var detail = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");
        var metrics = await host.Admin.GetStringAsync("/metrics");
        var committed = answers.Count(a => a.StartsWith("revision ", StringComparison.Ordinal));

        // One token a second: a write is taken again once one has come back.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var later = await PluginWritesAsync(host, null, Note(30), raw: true);

        Assert.Equal(["revision 1", "revision 2", "revision 3"], answers.Take(3));
        Assert.True(committed <= 4, string.Join(" | ", answers));
        Assert.All(answers.Where(a => !a.StartsWith("revision ", StringComparison.Ordinal)), a =>
        {
            Assert.StartsWith("ResourceExhausted: nothing was saved: plugin 't' writes its settings faster than this host allows (1 a second after a burst of 3: PluginHost:SettingsWritesPerSecond and SettingsWriteBurst); retry in ", a, StringComparison.Ordinal);
            Assert.Matches(@"retry in (\d+) ms\..* \[pushback \1 ms\]$", a);
        });
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        // One event a run of refusals, not one a refusal. The bucket refills on a one-second tick, which
        // may fall between two of the eight writes: then a write is taken again and a second run begins.
        var refusalRuns = answers.Where((a, i) => !a.StartsWith("revision ", StringComparison.Ordinal) && (i == 0 || answers[i - 1].StartsWith("revision ", StringComparison.Ordinal))).Count();
        Assert.InRange(refusalRuns, 1, 2);
        Assert.Equal(refusalRuns, detail.GetProperty("recentEvents").EnumerateArray().Count(e => e.GetProperty("name").GetString() == "settings-writes-paced"));
        Assert.Contains("plugin_settings_writes_refused_total{", metrics, StringComparison.Ordinal);
        Assert.Equal($"revision {committed + 2}", later);
    }

    // A plugin that may write its settings, with a schema that takes a free-form note.
    private static JsonObject Writer(string id)
    {
        var manifest = PluginFolders.Test(id);
        manifest["permissions"] = new JsonArray("settings.read", "settings.write");
        manifest["settingsSchema"] = JsonNode.Parse("""{ "type": "object", "properties": { "note": { "type": "string" } } }""");
        return manifest;
    }

    private static string Note(int length) => $$"""{"note":"{{new string('x', length)}}"}""";

    [Fact]
    public async Task TheSdk_WaitsAsThePaceSays_SoAPluginWritingInABurstIsSlowedNotFailed()
    {
        await using var host = await TestHost.StartAsync([Writer("t")], o =>
        {
            o.SettingsWritesPerSecond = 1;
            o.SettingsWriteBurst = 1;
        });
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var answers = new List<string>();
        for (var i = 1; i <= 4; i++)
        {
            answers.Add(await PluginWritesAsync(host, null, Note(i)));
        }

        var metrics = await host.Admin.GetStringAsync("/metrics");
        var refused = metrics.Split('\n').Single(l => l.StartsWith("plugin_settings_writes_refused_total{", StringComparison.Ordinal) && l.Contains("plugin=\"t\"", StringComparison.Ordinal));

        // Each write after the first came right after a token was taken: refused at least once, then taken on a retry.
        Assert.Equal(["revision 1", "revision 2", "revision 3", "revision 4"], answers);
        Assert.True(long.Parse(refused[(refused.LastIndexOf('}') + 2)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) >= 3, refused);
    }

    private static async Task<string> PluginWritesAsync(TestHost host, string? tenant, string json, bool raw = false)
    {
        using var response = await host.Admin.PostAsync((raw ? "/plugins/t/settings-raw" : "/plugins/t/settings") + (tenant is null ? "" : "?tenant=" + tenant), SettingsAndAdminTests.Json(json));
        return await response.Content.ReadAsStringAsync();
    }
}
