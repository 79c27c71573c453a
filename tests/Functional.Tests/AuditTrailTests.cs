using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>An admin's actions on real workers land in the audit trail: who, from where, what, and how each ended.</summary>
public sealed class AuditTrailTests
{
    private static async Task<JsonElement[]> AuditAsync(TestHost host, string query = "") =>
        [.. (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit" + query)).GetProperty("entries").EnumerateArray()];

    private static string Line(JsonElement e) =>
        $"{e.GetProperty("actor").GetString()} {e.GetProperty("action").GetString()} {e.GetProperty("pluginId").GetString()}/{e.GetProperty("tenant").GetString()} {e.GetProperty("status").GetInt32()}";

    [Fact]
    public async Task EveryAdminAction_IsRecordedWithWhoWhatAndHowItEnded_RefusalsAndFailedSignInsIncluded_ReadsAndSecretsNot()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);

        (await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", SettingsAndAdminTests.Json("""{"greeting":"hi","apiKey":"s3cret-value"}"""))).EnsureSuccessStatusCode();
        using var invalid = await host.Admin.PutAsync("/admin/api/plugins/t/settings", SettingsAndAdminTests.Json("""{"limit":0}"""));
        (await host.Admin.GetAsync("/admin/api/plugins/t/settings?tenant=acme")).EnsureSuccessStatusCode();
        (await host.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();
        (await host.Admin.PostAsync("/admin/api/plugins/t/enable", null)).EnsureSuccessStatusCode();
        (await host.Admin.PutAsync("/admin/api/plugins/t/tenant-scope", SettingsAndAdminTests.Json("""{"except":["initech"]}"""))).EnsureSuccessStatusCode();
        using var unknown = await host.Admin.PostAsync("/admin/api/plugins/nope/restart", null);
        using var wrongKey = await host.Client.PostAsync("/admin/login", new FormUrlEncodedContent([new("key", "guess")]));
        var entries = await AuditAsync(host);
        var raw = await host.Admin.GetStringAsync("/admin/api/audit");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        // Newest first; the GET of the settings is not an action.
        Assert.Equal(
            [
                "(anonymous) admin.sign-in / 401",
                "admin plugin.restart nope/ 404",
                "admin tenant-scope.set t/ 200",
                "admin plugin.enable t/ 200",
                "admin plugin.disable t/ 200",
                "admin settings.put t/ 422",
                "admin settings.put t/acme 200",
            ],
            entries.Select(Line));
        Assert.All(entries, e => Assert.Equal("127.0.0.1", e.GetProperty("remote").GetString()));
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.GetProperty("id").GetInt64() > p.Second.GetProperty("id").GetInt64()));
        Assert.Equal("That key is not an admin key.", entries[0].GetProperty("detail").GetString());
        Assert.Contains("No plugin with id 'nope' is installed", entries[1].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("all but initech", entries[2].GetProperty("detail").GetString());
        Assert.Contains("\"path\":\"/limit\"", entries[5].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("revision 1", entries[6].GetProperty("detail").GetString());
        Assert.DoesNotContain("s3cret", raw, StringComparison.Ordinal);
        Assert.Equal(["admin plugin.enable t/ 200"], (await AuditAsync(host, "?action=plugin.enable")).Select(Line));
    }

    [Fact]
    public async Task TheAuditTrail_OutlivesItsHostAndTheUninstall_AndIsReadPageByPage()
    {
        await using var first = await TestHost.StartAsync([PluginFolders.Test("t"), PluginFolders.Test("u")], configure: null);
        await first.WaitForStateAsync("t", WorkerState.Ready);
        (await first.Admin.PostAsync("/admin/api/plugins/t/restart", null)).EnsureSuccessStatusCode();
        (await first.Admin.PostAsync("/admin/api/plugins/u/disable", null)).EnsureSuccessStatusCode();
        (await first.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();
        (await first.Admin.DeleteAsync("/admin/api/plugins/t?keepSettings=false")).EnsureSuccessStatusCode();
        await first.StopAsync();

        // The next host on the same state directory (disposed first, it removes the directory).
        await using var second = await TestHost.StartAsync([], configure: null, root: first.Root);
        var page = await second.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?plugin=t&limit=2");
        var next = page.GetProperty("next").GetInt64();
        var rest = await second.Admin.GetFromJsonAsync<JsonElement>($"/admin/api/audit?plugin=t&limit=2&before={next}");

        Assert.Equal(["admin plugin.uninstall t/ 204", "admin plugin.disable t/ 200"], page.GetProperty("entries").EnumerateArray().Select(Line));
        Assert.Equal("settings and data directory removed", page.GetProperty("entries")[0].GetProperty("detail").GetString());
        Assert.Equal(["admin plugin.restart t/ 202"], rest.GetProperty("entries").EnumerateArray().Select(Line));
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task AnAuditTrailThatCannotBeWritten_LeavesTheActionAnswered_AndSaysSoAsAnErrorAndACount()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        host.ExpectErrors = true; // the lost record is logged as an error, once
        await host.WaitForStateAsync("t", WorkerState.Ready);
        // A store the host can no longer write its trail into, as a full disk or a hand edit leaves it.
        await host.ExecuteOnStoreAsync("DROP TABLE audit");

        using var disable = await host.Admin.PostAsync("/admin/api/plugins/t/disable", null);
        var metrics = await host.Client.GetStringAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        Assert.Equal(WorkerState.Stopped, (await host.WaitForStateAsync("t", WorkerState.Stopped)).State);
        Assert.Contains(host.ErrorLogs, e => e.Contains("The audit trail could not keep admin's plugin.disable of plugin 't' (answered 200)", StringComparison.Ordinal));
        Assert.Matches(@"(?m)^plugin_audit_writes_failed_total(\{[^}]*\})? 1( |$)", metrics);
    }

    [Fact]
    public async Task EveryAdminEndpointThatChangesSomething_IsAudited_AndTheTrailIsAskedForSensibly()
    {
        await using var host = await TestHost.StartAsync();

        var changing = host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/admin", StringComparison.Ordinal))
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Any(m => m is "POST" or "PUT" or "DELETE"))
            .ToList();
        using var badLimit = await host.Admin.GetAsync("/admin/api/audit?limit=0");
        using var badBefore = await host.Admin.GetAsync("/admin/api/audit?before=-3");
        using var wordLimit = await host.Admin.GetAsync("/admin/api/audit?limit=ten");
        using var wordBefore = await host.Admin.GetAsync("/admin/api/audit?before=yesterday");
        using var anonymous = await host.Client.GetAsync("/admin/api/audit");

        Assert.Equal(15, changing.Count);
        Assert.All(changing, e => Assert.NotNull(e.Metadata.GetMetadata<AuditedAction>()));
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Contains("ask for 1 to 500 entries a page", await badLimit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badBefore.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wordLimit.StatusCode);
        Assert.Contains("'limit' is 'ten'; ask for 1 to 500 entries a page", await wordLimit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, wordBefore.StatusCode);
        Assert.Contains("'before' is 'yesterday'; it takes the 'next' of the previous page", await wordBefore.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
