using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>An admin deletes a tenant's settings: the store forgets them, and so does the running plugin (ConfigureRequest.removed).</summary>
public sealed class TenantDeletionTests
{
    [Fact]
    public async Task DeletingATenantsSettings_TellsTheRunningPluginToForgetThem()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", SettingsAndAdminTests.Json("""{"greeting":"hey"}"""))).EnsureSuccessStatusCode();
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=other", SettingsAndAdminTests.Json("""{"greeting":"yo"}"""))).EnsureSuccessStatusCode();
        var before = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured?tenant=acme");

        using var deleted = await host.Admin.DeleteAsync("/admin/api/plugins/t/settings?tenant=acme");
        var answer = await deleted.Content.ReadFromJsonAsync<JsonElement>();
        var after = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured?tenant=acme");
        var other = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured?tenant=other");
        var recreated = await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", SettingsAndAdminTests.Json("""{"greeting":"again"}"""));

        Assert.Equal("hey", before.GetProperty("greeting").GetString());
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("forgotten", answer.GetProperty("plugin").GetString());
        Assert.Equal(JsonValueKind.Null, after.ValueKind);
        Assert.Equal("yo", other.GetProperty("greeting").GetString());
        Assert.Equal(1, (await recreated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64());
        Assert.Equal("again", (await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/last-configured?tenant=acme")).GetProperty("greeting").GetString());
    }

    [Fact]
    public async Task APluginRefusingToForget_DoesNotUndoTheDeletion_AndTheAdminIsToldWhy()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=refuses-removal", SettingsAndAdminTests.Json("""{"greeting":"hey"}"""))).EnsureSuccessStatusCode();

        using var deleted = await host.Admin.DeleteAsync("/admin/api/plugins/t/settings?tenant=refuses-removal");
        var answer = await deleted.Content.ReadFromJsonAsync<JsonElement>();
        var stored = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t/settings?tenant=refuses-removal");
        var detail = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("refused", answer.GetProperty("plugin").GetString());
        Assert.Contains("refuses to forget", answer.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, stored.GetProperty("revision").GetInt64());
        Assert.Contains(detail.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "settings-deleted"
            && e.GetProperty("detail").GetString()!.Contains("the running plugin refused to forget them", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeletingATenantsSettings_OfAStoppedPlugin_SaysSo_AndItsNextStartIsNotOfferedThem()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/settings?tenant=acme", SettingsAndAdminTests.Json("""{"greeting":"hey"}"""))).EnsureSuccessStatusCode();
        (await host.Admin.PostAsync("/admin/api/plugins/t/disable", content: null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("t", WorkerState.Stopped);

        using var deleted = await host.Admin.DeleteAsync("/admin/api/plugins/t/settings?tenant=acme");
        var answer = await deleted.Content.ReadFromJsonAsync<JsonElement>();
        (await host.Admin.PostAsync("/admin/api/plugins/t/enable", content: null)).EnsureSuccessStatusCode();
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var configured = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/t/configured");

        Assert.Equal("not-running", answer.GetProperty("plugin").GetString());
        Assert.DoesNotContain(configured.EnumerateArray(), t => t.GetString() == "acme");
    }
}
