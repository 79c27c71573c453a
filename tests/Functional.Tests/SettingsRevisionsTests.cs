using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>An admin sees a scope's latest settings revisions and puts an earlier one back, on a real worker and store.</summary>
public sealed class SettingsRevisionsTests
{
    [Fact]
    public async Task AnEarlierRevision_IsListedMasked_AndRestoredAsANewRevision_ThePluginConfiguredWithItsSecretInClear()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        foreach (var body in (string[])["""{"greeting":"first","apiKey":"first-secret"}""", """{"greeting":"second","apiKey":"second-secret"}""", """{"greeting":"broken","limit":1}"""])
        {
            (await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", SettingsAndAdminTests.Json(body))).EnsureSuccessStatusCode();
        }

        var listed = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings/revisions?tenant=acme");
        using var restore = await host.Admin.PostAsync("/admin/api/plugins/t/settings/revisions/1/restore?tenant=acme", null);
        var configured = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured?tenant=acme");
        var current = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings?tenant=acme");
        var audit = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=settings.restore")).GetProperty("entries")[0];

        Assert.Equal([3L, 2L, 1L], listed.GetProperty("revisions").EnumerateArray().Select(r => r.GetProperty("revision").GetInt64()));
        Assert.Equal("second", listed.GetProperty("revisions")[1].GetProperty("settings").GetProperty("greeting").GetString());
        Assert.Equal("********", listed.GetProperty("revisions")[1].GetProperty("settings").GetProperty("apiKey").GetString());
        Assert.DoesNotContain("secret", listed.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, restore.StatusCode);
        Assert.Equal(4, (await restore.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64());
        Assert.Equal("\"4\"", restore.Headers.ETag!.Tag);
        Assert.Equal("first", configured.GetProperty("greeting").GetString());
        Assert.Equal("first-secret", configured.GetProperty("apiKey").GetString());
        Assert.False(configured.TryGetProperty("limit", out _));
        Assert.Equal("first", current.GetProperty("settings").GetProperty("greeting").GetString());
        Assert.Equal("revision 1 restored as revision 4", audit.GetProperty("detail").GetString());
        Assert.Equal("acme", audit.GetProperty("tenant").GetString());
    }

    [Fact]
    public async Task ARevisionNotKept_OrNoNumber_AStaleIfMatch_AndAnUnknownPlugin_AreRefused_AndNothingIsWritten()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        for (var n = 1; n <= 12; n++)
        {
            (await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json($$"""{"limit":{{n}}}"""))).EnsureSuccessStatusCode();
        }

        var listed = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings/revisions");
        using var dropped = await host.Admin.PostAsync("/admin/api/plugins/t/settings/revisions/2/restore", null);
        using var stale = new HttpRequestMessage(HttpMethod.Post, "/admin/api/plugins/t/settings/revisions/5/restore");
        stale.Headers.TryAddWithoutValidation("If-Match", "\"11\"");
        using var staleAnswer = await host.Admin.SendAsync(stale);
        using var unknown = await host.Admin.PostAsync("/admin/api/plugins/nope/settings/revisions/1/restore", null);
        using var noNumber = await host.Admin.PostAsync("/admin/api/plugins/t/settings/revisions/latest/restore", null);
        var current = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings");

        Assert.Equal(Enumerable.Range(3, 10).Reverse().Select(n => (long)n), listed.GetProperty("revisions").EnumerateArray().Select(r => r.GetProperty("revision").GetInt64()));
        Assert.Equal(HttpStatusCode.NotFound, dropped.StatusCode);
        Assert.Contains("revision 2 of 't' is not kept (those kept are 12, 11, 10, 9, 8, 7, 6, 5, 4, 3; the last 10 are)", await dropped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("Unknown plugin", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noNumber.StatusCode);
        Assert.Contains("Nothing was restored: 'latest' is not a revision number", await noNumber.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(12, current.GetProperty("revision").GetInt64());
        Assert.Equal(12, current.GetProperty("settings").GetProperty("limit").GetInt32());
    }
}
