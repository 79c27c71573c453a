using System.Security.Claims;
using System.Text.Encodings.Web;
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
    AdminKeyVerifier verifier) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "PluginHostApiKey";

    /// <summary>The cookie the admin page's sign-in sets, holding the same key.</summary>
    public const string CookieName = "gph_admin";

    // Per request: the handler is created for each one.
    private TimeSpan _lockedOutFor;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers["X-Api-Key"].FirstOrDefault();
        var authorization = Request.Headers.Authorization.FirstOrDefault();
        if (presented is null && authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }

        var fromCookie = presented is null;
        presented ??= Request.Cookies[CookieName];
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }

        var verdict = await verifier.VerifyAsync(Context, presented).ConfigureAwait(false);
        if (verdict.LockedOutFor > TimeSpan.Zero)
        {
            _lockedOutFor = verdict.LockedOutFor;
            return AuthenticateResult.Fail("too many wrong keys from this address");
        }

        if (verdict.Holder is not { } holder)
        {
            if (fromCookie)
            {
                // A revoked or rotated key left in the page's cookie: dropped, so the page's polling
                // does not present it every few seconds and lock its address out.
                Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });
            }

            return AuthenticateResult.Fail("wrong API key");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, holder)], SchemeName);
        if (verdict.ReadOnly)
        {
            identity.AddClaim(new Claim(AdminAccess.ClaimType, AdminAccess.ReadOnly));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        if (!AdminAccess.IsReadOnly(Context.User))
        {
            await base.HandleForbiddenAsync(properties).ConfigureAwait(false);
            return;
        }

        // A read-only key's change refused before any endpoint (and its audit filter) ran: kept in the trail here.
        var holder = Audit.AdminActor.Of(Context.User);
        var detail = $"'{holder}' holds a read-only admin key (PluginHost:ReadOnlyAdmins): it may look (GET, HEAD), not change anything. Ask for a key of your own that may act, or remove '{holder}' from PluginHost:ReadOnlyAdmins.";
        if (Context.GetEndpoint()?.Metadata.GetMetadata<Audit.AuditedAction>() is { } action)
        {
            await Audit.AdminAuditFilter.RecordAsync(Context, action.Name, new Audit.AuditNote(), StatusCodes.Status403Forbidden, detail).ConfigureAwait(false);
        }

        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = StatusCodes.Status403Forbidden,
            Title = "Read-only admin key",
            Detail = detail,
        }).ConfigureAwait(false);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (_lockedOutFor > TimeSpan.Zero)
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = ((int)Math.Ceiling(_lockedOutFor.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many wrong admin keys",
                Detail = $"Too many wrong admin keys came from your address, so every key from it is refused for the next {Math.Ceiling(_lockedOutFor.TotalSeconds)} s (PluginHost:AdminKeyFailuresAllowed within PluginHost:AdminKeyLockout). Check the key you send, then try again.",
            }).ConfigureAwait(false);
            return;
        }

        Response.StatusCode = 401;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = 401,
            Title = "Authentication required",
            Detail = "Send the host's admin API key as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY' (configured as PluginHost:AdminApiKey, or one holder's in PluginHost:AdminApiKeys).",
        }).ConfigureAwait(false);
    }
}
