using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Admin keys per holder, rotated without a restart, and an address guessing keys locked out, on a real host.</summary>
public sealed class AdminKeyTests
{
    private const string AliceKey = "alices-own-long-key";

    private static HttpRequestMessage AsHolder(HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", key);
        return request;
    }

    private static async Task<HttpStatusCode> StatusAsync(TestHost host, string key, string path = "/admin/api/plugins")
    {
        using var request = AsHolder(HttpMethod.Get, path, key);
        using var response = await host.Client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task EachHoldersKey_IsRecordedUnderTheirName_InTheAuditTrailAndTheLifecycleEvents()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")], o => o.AdminApiKeys["alice"] = AliceKey);
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using (var scope = AsHolder(HttpMethod.Put, "/admin/api/plugins/t/tenant-scope", AliceKey))
        {
            scope.Content = SettingsAndAdminTests.Json("""{"only":["acme"]}""");
            (await host.Client.SendAsync(scope)).EnsureSuccessStatusCode();
        }

        (await host.Admin.PostAsync("/admin/api/plugins/t/restart", null)).EnsureSuccessStatusCode();
        using var signIn = await host.Client.PostAsync("/admin/login", new FormUrlEncodedContent([new("key", AliceKey)]));
        var audit = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit")).GetProperty("entries").EnumerateArray()
            .Select(e => $"{e.GetProperty("actor").GetString()} {e.GetProperty("action").GetString()}");
        var detail = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/t");

        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode); // the redirect to the page, followed
        Assert.Equal(["alice admin.sign-in", "admin plugin.restart", "alice tenant-scope.set"], audit);
        Assert.Contains(detail.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("detail").GetString() == "only acme by alice");
    }

    [Fact]
    public async Task AReadOnlyHoldersKey_ReadsTheAdminApiAndPluginRoutes_ButEveryChangeIs403_SaidAndAudited_WhileAFullKeyActs()
    {
        const string DashboardKey = "the-dashboards-own-key";
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")], o =>
        {
            o.AdminApiKeys["alice"] = AliceKey;
            o.AdminApiKeys["dashboard"] = DashboardKey;
            o.ReadOnlyAdmins.Add("dashboard");
        });
        await host.WaitForStateAsync("t", WorkerState.Ready);

        var me = await SendAsync(HttpMethod.Get, "/admin/api/me", DashboardKey);
        var plugins = await StatusAsync(host, DashboardKey);
        var route = await StatusAsync(host, DashboardKey, "/plugins/t/whoami");
        var disable = await SendAsync(HttpMethod.Post, "/admin/api/plugins/t/disable", DashboardKey);
        var postToRoute = await SendAsync(HttpMethod.Post, "/plugins/t/echo/x", DashboardKey);
        var stateAfter = host.Supervisor("t").Snapshot.State;
        var alice = await SendAsync(HttpMethod.Post, "/admin/api/plugins/t/disable", AliceKey);
        var audit = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=plugin.disable")).GetProperty("entries").EnumerateArray()
            .Select(e => $"{e.GetProperty("actor").GetString()} {e.GetProperty("status").GetInt32()}");
        var byDashboard = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?actor=dashboard")).GetProperty("entries").EnumerateArray()
            .Select(e => $"{e.GetProperty("action").GetString()} {e.GetProperty("status").GetInt32()}");

        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("""{"holder":"dashboard","readOnly":true}""", me.Body);
        Assert.Equal(HttpStatusCode.OK, plugins);
        Assert.Equal(HttpStatusCode.OK, route);
        Assert.Equal(HttpStatusCode.Forbidden, disable.Status);
        Assert.Contains("'dashboard' holds a read-only admin key (PluginHost:ReadOnlyAdmins): it may look (GET, HEAD), not change anything.", disable.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, postToRoute.Status);
        Assert.Equal(WorkerState.Ready, stateAfter);
        Assert.Equal(HttpStatusCode.OK, alice.Status);
        Assert.Equal(["alice 200", "dashboard 403"], audit);
        // What one holder did, asked of the trail by their name.
        Assert.Equal(["plugin.disable 403"], byDashboard);

        async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string key)
        {
            using var request = AsHolder(method, path, key);
            using var response = await host.Client.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task AKeyAddedRotatedOrRevokedInAConfigurationFile_TakesEffectWithoutARestart_AndABadEditChangesNothing()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")], configure: null);
        await host.WaitForStateAsync("t", WorkerState.Ready);
        var pid = host.Supervisor("t").Snapshot.Pid;
        var file = Path.Combine(host.Root, "keys.json");
        await File.WriteAllTextAsync(file, """{"PluginHost": {"AdminApiKeys": {"carol": "carols-first-key"}}}""");
        // As a host reading appsettings.json or a mounted secret: a file the configuration watches.
        ((IConfigurationBuilder)host.Services.GetRequiredService<IConfiguration>()).AddJsonFile(file, optional: false, reloadOnChange: true);
        var added = await StatusAsync(host, "carols-first-key");

        await File.WriteAllTextAsync(file, """{"PluginHost": {"AdminApiKeys": {"carol": "carols-second-key"}}}""");
        await WaitUntilAsync(async () => await StatusAsync(host, "carols-second-key") == HttpStatusCode.OK, "the rotated key to work");
        var oldKey = await StatusAsync(host, "carols-first-key");

        host.ExpectErrors = true; // the refused edit is logged as an error
        await File.WriteAllTextAsync(file, """{"PluginHost": {"AdminApiKeys": {"carol": "short"}}}""");
        await WaitUntilAsync(() => Task.FromResult(host.ErrorLogs.Any(e => e.Contains("PluginHost:AdminApiKeys:carol is 5 characters long", StringComparison.Ordinal))), "the bad edit to be refused");
        var afterBadEdit = await StatusAsync(host, "carols-second-key");

        await File.WriteAllTextAsync(file, """{"PluginHost": {"AdminApiKeys": {"carol": ""}}}""");
        await WaitUntilAsync(async () => await StatusAsync(host, "carols-second-key") == HttpStatusCode.Unauthorized, "the revoked key to stop working");

        Assert.Equal(HttpStatusCode.OK, added);
        Assert.Equal(HttpStatusCode.Unauthorized, oldKey);
        Assert.Equal(HttpStatusCode.OK, afterBadEdit);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, TestHost.AdminKey));
        Assert.Equal(pid, host.Supervisor("t").Snapshot.Pid);
    }

    [Fact]
    public async Task AnAddressGuessingKeys_IsLockedOutForEveryKey_Told429WithRetryAfter_AndItIsAudited_ThenLetBackIn()
    {
        await using var host = await TestHost.StartAsync([], o =>
        {
            o.AdminKeyFailuresAllowed = 3;
            o.AdminKeyLockout = TimeSpan.FromSeconds(2);
        });

        var guesses = new List<HttpStatusCode>();
        for (var n = 0; n < 3; n++)
        {
            guesses.Add(await StatusAsync(host, $"guess-number-{n}"));
        }

        using var right = AsHolder(HttpMethod.Get, "/admin/api/plugins", TestHost.AdminKey);
        using var refused = await host.Client.SendAsync(right);
        using var page = await host.Client.PostAsync("/admin/login", new FormUrlEncodedContent([new("key", TestHost.AdminKey)]));
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        var after = await StatusAsync(host, TestHost.AdminKey);
        var lockout = (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/audit?action=admin.lockout")).GetProperty("entries").EnumerateArray().Single();

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, (HttpStatusCode)429], guesses);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 2);
        Assert.Contains("Too many wrong admin keys came from your address", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode)429, page.StatusCode);
        Assert.Contains("Too many wrong keys came from your address", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, after);
        Assert.Equal("127.0.0.1", lockout.GetProperty("remote").GetString());
        Assert.Equal(429, lockout.GetProperty("status").GetInt32());
        Assert.Contains("too many wrong admin keys from 127.0.0.1", lockout.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongKeyInThePagesCookie_IsDropped_SoThePagesPollingCannotLockItsAddressOut()
    {
        await using var host = await TestHost.StartAsync([], o => o.AdminKeyFailuresAllowed = 3);

        using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/admin/api/plugins");
        withCookie.Headers.Add("Cookie", "gph_admin=a-revoked-admin-key");
        using var answer = await host.Client.SendAsync(withCookie);
        var later = new List<HttpStatusCode>();
        for (var n = 0; n < 5; n++)
        {
            // As the page polls once its cookie is gone: no key, so nothing to count.
            using var poll = await host.Client.GetAsync("/admin/api/plugins");
            later.Add(poll.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Contains(answer.Headers.GetValues("Set-Cookie"), c => c.StartsWith("gph_admin=;", StringComparison.Ordinal) && c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase));
        Assert.All(later, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, TestHost.AdminKey));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"waited 15 s for {what}");
            }

            await Task.Delay(100);
        }
    }
}
