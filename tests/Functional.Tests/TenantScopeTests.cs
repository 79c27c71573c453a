using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hooks.Tenancy;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Functional.Tests;

/// <summary>An admin scopes a plugin's hooks to some tenants, through the admin API, and real workers see only those tenants' calls.</summary>
public sealed class TenantScopeTests
{
    private static readonly HookPoint s_request = TestHost.Request;

    private static Task<TestHost> StartAsync() => TestHost.StartAsync([PluginFolders.Test("tagger"), PluginFolders.Test("other")], configure: null, mapApplication: app =>
        app.MapPost("/orders", async (HttpRequest request) => await new StreamReader(request.Body).ReadToEndAsync())
            .WithPluginHooks(new EndpointHooks { Inbound = s_request, Tenant = context => context.Request.Headers["x-tenant"].ToString() }));

    private static async Task<string> PostAsync(TestHost host, string tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent("order") };
        request.Headers.Add("x-tenant", tenant);
        using var response = await host.Client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task APluginScopedToSomeTenants_IsCalledOnlyForThem_TheOthersPluginsStillForAll_AndTheAdminViewsSaySo()
    {
        await using var host = await StartAsync();
        await Task.WhenAll(host.WaitForStateAsync("tagger", WorkerState.Ready), host.WaitForStateAsync("other", WorkerState.Ready));

        using var put = await host.Admin.PutAsync("/admin/api/plugins/tagger/tenant-scope", SettingsAndAdminTests.Json("""{"only": ["acme", "globex"]}"""));
        var acme = await PostAsync(host, "acme");
        var initech = await PostAsync(host, "initech");
        var none = await PostAsync(host, string.Empty);
        var detail = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/tagger");
        var point = JsonNode.Parse(await host.Admin.GetStringAsync("/admin/api/hooks"))!.AsArray().Single(p => (string?)p!["point"] == "request")!;

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("only acme, globex", (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("takes").GetString());
        // Each test plugin appends its id to the body it is called with.
        Assert.Equal("order|other|tagger", acme);
        Assert.Equal("order|other", initech);
        Assert.Equal("order|other", none);
        Assert.Equal("only acme, globex", detail.GetProperty("tenantScope").GetString());
        Assert.Contains(detail.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "tenant-scope-changed" && e.GetProperty("detail").GetString() == "only acme, globex by admin");
        Assert.Equal(["other: ", "tagger: only acme, globex"], point["plugins"]!.AsArray().Select(p => $"{p!["id"]}: {p["tenants"]}"));
    }

    [Fact]
    public async Task AHostThatResolvesRouteTenants_GivesThePluginItsTenant_AndAnswers404ForATenantItsScopeLeavesOut_WithoutACall()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")], o => o.RouteTenant = context => context.Request.Headers["x-tenant"].ToString());
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/tenant-scope", SettingsAndAdminTests.Json("""{"except": ["initech"]}"""))).EnsureSuccessStatusCode();

        using var acme = await GetRouteAsync(host, "acme");
        using var initech = await GetRouteAsync(host, "initech");
        using var none = await GetRouteAsync(host, string.Empty);
        using var bad = await GetRouteAsync(host, new string('t', 129));
        var metrics = await host.Client.GetStringAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, acme.StatusCode);
        Assert.Equal("acme", (await acme.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetString());
        Assert.Equal(HttpStatusCode.NotFound, initech.StatusCode);
        Assert.Equal("not-for-tenant", initech.Headers.GetValues("X-Plugin-Error").Single());
        Assert.Contains("does not serve tenant 'initech'", await initech.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Equal(string.Empty, (await none.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("outcome=\"not-for-tenant\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostThatResolvesNoRouteTenant_KeepsTenantScopesForHooks_AndServesEveryRoute()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PutAsync("/admin/api/plugins/t/tenant-scope", SettingsAndAdminTests.Json("""{"only": ["acme"]}"""))).EnsureSuccessStatusCode();

        using var initech = await GetRouteAsync(host, "initech");

        Assert.Equal(HttpStatusCode.OK, initech.StatusCode);
        Assert.Equal(string.Empty, (await initech.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetString());
    }

    [Fact]
    public async Task ThePluginRoutesHookPoints_TakeTheRouteTenant_WhenTheyNameNoneOfTheirOwn()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("tagger"), PluginFolders.Test("t")], o =>
        {
            o.RouteTenant = context => context.Request.Headers["x-tenant"].ToString();
            o.PluginRouteHooks = new EndpointHooks { Inbound = s_request };
        });
        await Task.WhenAll(host.WaitForStateAsync("tagger", WorkerState.Ready), host.WaitForStateAsync("t", WorkerState.Ready));
        (await host.Admin.PutAsync("/admin/api/plugins/tagger/tenant-scope", SettingsAndAdminTests.Json("""{"only": ["acme"]}"""))).EnsureSuccessStatusCode();

        // The upload route counts the bytes it gets; the tagger's hook appends "|tagger" to them.
        async Task<long> UploadedAsync(string tenant)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/plugins/t/upload") { Content = new StringContent("order") };
            request.Headers.Add("x-tenant", tenant);
            using var response = await host.Admin.SendAsync(request);
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bytes").GetInt64();
        }

        Assert.Equal("order|tagger|t".Length, await UploadedAsync("acme"));
        Assert.Equal("order|t".Length, await UploadedAsync("initech"));
    }

    [Fact]
    public async Task UnderADefaultOfNoTenant_ANewPluginServesNobody_UntilAnAdminLetsTenantsIn_AndAResetTakesThemAway()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("tagger"), PluginFolders.Test("other")], o =>
        {
            o.DefaultTenantScope = new DefaultTenantScopeOptions { Mode = TenantScopeMode.Only };
            o.RouteTenant = context => context.Request.Headers["x-tenant"].ToString();
        }, mapApplication: app =>
            app.MapPost("/orders", async (HttpRequest request) => await new StreamReader(request.Body).ReadToEndAsync())
                .WithPluginHooks(new EndpointHooks { Inbound = s_request, Tenant = context => context.Request.Headers["x-tenant"].ToString() }));
        await Task.WhenAll(host.WaitForStateAsync("tagger", WorkerState.Ready), host.WaitForStateAsync("other", WorkerState.Ready));

        var before = await PostAsync(host, "acme");
        using var routeBefore = await GetRouteAsync(host, "acme", "tagger");
        var shown = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/tagger/tenant-scope");
        (await host.Admin.PutAsync("/admin/api/plugins/tagger/tenant-scope", SettingsAndAdminTests.Json("{}"))).EnsureSuccessStatusCode();
        var letIn = await PostAsync(host, "acme");
        using var routeLetIn = await GetRouteAsync(host, "acme", "tagger");
        using var reset = await host.Admin.DeleteAsync("/admin/api/plugins/tagger/tenant-scope");
        var afterReset = await PostAsync(host, "acme");

        Assert.Equal("order", before);
        Assert.Equal(HttpStatusCode.NotFound, routeBefore.StatusCode);
        Assert.Equal("no tenant (the host's default)", shown.GetProperty("takes").GetString());
        Assert.True(shown.GetProperty("isDefault").GetBoolean());
        Assert.Equal("order|tagger", letIn);
        Assert.Equal(HttpStatusCode.OK, routeLetIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.True((await reset.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isDefault").GetBoolean());
        Assert.Equal("order", afterReset);
    }

    private static async Task<HttpResponseMessage> GetRouteAsync(TestHost host, string tenant, string plugin = "t")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/plugins/{plugin}/echo/a");
        request.Headers.TryAddWithoutValidation("x-tenant", tenant);
        return await host.Admin.SendAsync(request);
    }

    [Fact]
    public async Task EveryTenantAgain_AndAllButOne_TakeEffectOnTheNextCall()
    {
        await using var host = await StartAsync();
        await Task.WhenAll(host.WaitForStateAsync("tagger", WorkerState.Ready), host.WaitForStateAsync("other", WorkerState.Ready));

        (await host.Admin.PutAsync("/admin/api/plugins/tagger/tenant-scope", SettingsAndAdminTests.Json("""{"except": ["initech"]}"""))).EnsureSuccessStatusCode();
        var initechExcepted = await PostAsync(host, "initech");
        var acmeTaken = await PostAsync(host, "acme");
        (await host.Admin.PutAsync("/admin/api/plugins/tagger/tenant-scope", SettingsAndAdminTests.Json("{}"))).EnsureSuccessStatusCode();
        var initechAgain = await PostAsync(host, "initech");
        var scope = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/tagger/tenant-scope");

        Assert.Equal("order|other", initechExcepted);
        Assert.Equal("order|other|tagger", acmeTaken);
        Assert.Equal("order|other|tagger", initechAgain);
        Assert.Equal("every tenant", scope.GetProperty("takes").GetString());
        Assert.Equal("{}", scope.GetProperty("scope").GetRawText());
    }

    [Fact]
    public async Task AStoredScopeTheHostCannotRead_IsLoggedAndShown_AndThePluginTakesEveryTenant_TheHostStarting()
    {
        var root = Directory.CreateTempSubdirectory("gpt-scope-").FullName;
        PluginFolders.Write(Path.Combine(root, "plugins"), PluginFolders.Test("tagger"));
        // As an older or newer host, or a hand edit, might have left it.
        using (var store = new GrpcPlugins.Host.Settings.SqlitePluginStore(Path.Combine(root, "state", "plugins.db"), TimeProvider.System))
        {
            await store.SetTenantScopeAsync("tagger", """{"only": "acme"}""", CancellationToken.None);
        }

        await using var host = await TestHost.StartAsync([], configure: null, root: root, mapApplication: app =>
            app.MapPost("/orders", async (HttpRequest request) => await new StreamReader(request.Body).ReadToEndAsync())
                .WithPluginHooks(new EndpointHooks { Inbound = s_request, Tenant = context => context.Request.Headers["x-tenant"].ToString() }));
        host.ExpectErrors = true; // the unreadable scope is logged as an error, once
        await host.WaitForStateAsync("tagger", WorkerState.Ready);

        var answer = await PostAsync(host, "globex");
        var detail = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/tagger");

        Assert.Equal("order|tagger", answer);
        Assert.Equal("every tenant", detail.GetProperty("tenantScope").GetString());
        Assert.Contains(detail.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "tenant-scope-unreadable" && e.GetProperty("detail").GetString()!.Contains("$.only: write a list of tenant ids", StringComparison.Ordinal));
        Assert.Contains(host.ErrorLogs, e => e.Contains("stored tenant scope cannot be read", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABadScope_IsRefusedWithEveryProblem_AndChangesNothing_AndAnUnknownPluginIs404()
    {
        await using var host = await StartAsync();
        await host.WaitForStateAsync("tagger", WorkerState.Ready);

        using var bad = await host.Admin.PutAsync("/admin/api/plugins/tagger/tenant-scope", SettingsAndAdminTests.Json("""{"only": ["acme", 7], "except": []}"""));
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        using var unknown = await host.Admin.PutAsync("/admin/api/plugins/nope/tenant-scope", SettingsAndAdminTests.Json("{}"));
        using var anonymous = await host.Client.GetAsync("/admin/api/plugins/tagger/tenant-scope");

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("$: write 'only' or 'except', not both", problem.GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("every tenant", (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/tagger/tenant-scope")).GetProperty("takes").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
