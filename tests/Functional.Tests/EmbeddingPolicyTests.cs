using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.RateLimiting;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// What an embedding application decides: who calls plugin routes (its own users, not the
/// admin key), and its own conventions on each group of the host's endpoints.
/// </summary>
public sealed class EmbeddingPolicyTests
{
    [Fact]
    public async Task TheApplicationsUsers_ReachPluginRoutesThroughTheRoutesPolicy_WhileTheAdminApiKeepsItsKey()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("t")], configure: null, services: s =>
        {
            s.AddAuthentication().AddScheme<AuthenticationSchemeOptions, HeaderUserHandler>(HeaderUserHandler.SchemeName, null);
            s.AddAuthorizationBuilder().AddPolicy(PluginHostPolicies.Routes, p => p.AddAuthenticationSchemes(HeaderUserHandler.SchemeName).RequireAuthenticatedUser());
        });
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var asUser = await host.Client.SendAsync(AsUser(HttpMethod.Get, "/plugins/t/echo/a", "alice"));
        using var asAdmin = await host.Admin.GetAsync("/plugins/t/echo/a");
        using var adminApiAsUser = await host.Client.SendAsync(AsUser(HttpMethod.Get, "/admin/api/plugins", "alice"));
        using var adminApiAsAdmin = await host.Admin.GetAsync("/admin/api/plugins");

        Assert.Equal(HttpStatusCode.OK, asUser.StatusCode);
        Assert.Equal("alice", (await asUser.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("user").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, asAdmin.StatusCode);
        Assert.Equal(HeaderUserHandler.SchemeName, asAdmin.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Unauthorized, adminApiAsUser.StatusCode);
        Assert.Equal(HttpStatusCode.OK, adminApiAsAdmin.StatusCode);
    }

    [Fact]
    public async Task TheApplicationsConventions_ApplyToEachGroupOfTheHostsEndpoints()
    {
        await using var host = await TestHost.StartAsync(
            [PluginFolders.Test("t")],
            configure: null,
            mapApplication: app => app.UseRateLimiter(),
            services: s => s.AddRateLimiter(o =>
            {
                o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                o.AddFixedWindowLimiter("one", w => (w.PermitLimit, w.Window, w.QueueLimit) = (1, TimeSpan.FromMinutes(5), 0));
            }),
            pluginEndpoints: e =>
            {
                e.Routes.RequireRateLimiting("one");
                e.Metrics.RequireAuthorization(PluginHostPolicies.Admin);
            });
        await host.WaitForStateAsync("t", WorkerState.Ready);

        using var first = await host.Admin.GetAsync("/plugins/t/echo/a");
        using var second = await host.Admin.GetAsync("/plugins/t/echo/a");
        using var adminApi = await host.Admin.GetAsync("/admin/api/plugins");
        using var metricsAnonymous = await host.Client.GetAsync("/metrics");
        using var metricsAsAdmin = await host.Admin.GetAsync("/metrics");
        using var health = await host.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, adminApi.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, metricsAnonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metricsAsAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static HttpRequestMessage AsUser(HttpMethod method, string path, string user)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add(HeaderUserHandler.Header, user);
        return request;
    }

    /// <summary>An application's own users, as simply as a test can have them: the name in a header.</summary>
    private sealed class HeaderUserHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "TestUser";
        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers[Header].ToString() is { Length: > 0 } name
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName)), SchemeName))
                : AuthenticateResult.NoResult());

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = SchemeName;
            return Task.CompletedTask;
        }
    }
}
