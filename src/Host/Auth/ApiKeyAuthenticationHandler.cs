using System.Security.Claims;
using System.Text.Encodings.Web;
using GrpcPlugins.Host.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Auth;

/// <summary>
/// The reference host's admin credential: an API key from configuration, as
/// "Authorization: Bearer KEY" or "X-Api-Key: KEY". With no key configured,
/// nobody authenticates: default-deny.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<PluginHostOptions> hostOptions) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "PluginHostApiKey";

    /// <summary>The cookie the admin page's sign-in sets, holding the same key.</summary>
    public const string CookieName = "gph_admin";

    /// <summary>The name the admin key authenticates as.</summary>
    public const string UserName = "admin";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers["X-Api-Key"].FirstOrDefault();
        var authorization = Request.Headers.Authorization.FirstOrDefault();
        if (presented is null && authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }

        presented ??= Request.Cookies[CookieName];
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!AdminKey.Matches(hostOptions.Value.AdminApiKey, presented))
        {
            return Task.FromResult(AuthenticateResult.Fail("wrong API key"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, UserName)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = 401;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = 401,
            Title = "Authentication required",
            Detail = "Send the host's admin API key as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY' (configured as PluginHost:AdminApiKey).",
        }).ConfigureAwait(false);
    }
}
