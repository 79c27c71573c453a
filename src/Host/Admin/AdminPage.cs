using System.Net;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// The /admin page: a sign-in form until the admin key is presented, then the
/// page, which calls /admin/api with the same credential (an HttpOnly,
/// SameSite=Strict cookie holding the key). Same policy as the API.
/// </summary>
internal static class AdminPage
{
    private static readonly Lazy<string> s_page = new(() => Resource("admin.html"));
    private static readonly Lazy<string> s_login = new(() => Resource("login.html"));
    private static readonly Lazy<string> s_pagePolicy = new(() => PageSecurityPolicy.For(s_page.Value));
    private static readonly Lazy<string> s_loginPolicy = new(() => PageSecurityPolicy.For(s_login.Value));

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/admin", async (HttpContext context, IAuthorizationPolicyProvider policies, IPolicyEvaluator evaluator) =>
        {
            var policy = (await policies.GetPolicyAsync(PluginHostPolicies.Admin).ConfigureAwait(false))!;
            var authenticated = await evaluator.AuthenticateAsync(policy, context).ConfigureAwait(false);
            var authorized = await evaluator.AuthorizeAsync(policy, authenticated, context, context).ConfigureAwait(false);
            return authorized.Succeeded
                ? Html(context, s_page.Value, s_pagePolicy.Value, 200)
                : Login(context, string.Empty, 401);
        }).AllowAnonymous();

        endpoints.MapPost("/admin/login", async (HttpContext context, AdminKeyVerifier verifier, AdminKeys keys) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            var key = form["key"].ToString();
            var verdict = await verifier.VerifyAsync(context, key).ConfigureAwait(false);
            if (verdict.Holder is null)
            {
                var message = verdict.LockedOutFor > TimeSpan.Zero
                    ? $"Too many wrong keys came from your address; every key from it is refused for the next {Math.Ceiling(verdict.LockedOutFor.TotalSeconds)} s."
                    : keys.Current.IsEmpty ? "No admin key is configured (PluginHost:AdminApiKey or PluginHost:AdminApiKeys)." : "That key is not an admin key.";
                AuditNote.Of(context).Detail = message;
                return Login(context, message, verdict.LockedOutFor > TimeSpan.Zero ? 429 : 401);
            }

            context.Response.Cookies.Append(ApiKeyAuthenticationHandler.CookieName, key, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
            });
            AuditNote.Of(context).Actor = verdict.Holder;
            return Results.Redirect($"{context.Request.PathBase}/admin");
        }).AllowAnonymous().DisableAntiforgery().Audited("admin.sign-in");
    }

    private static IResult Login(HttpContext context, string error, int status) =>
        Html(context, s_login.Value
            .Replace("{{error}}", WebUtility.HtmlEncode(error), StringComparison.Ordinal)
            .Replace("{{base}}", WebUtility.HtmlEncode(context.Request.PathBase.ToUriComponent()), StringComparison.Ordinal), s_loginPolicy.Value, status);

    private static IResult Html(HttpContext context, string html, string policy, int status)
    {
        PageSecurityPolicy.Apply(context.Response, policy);
        return Results.Content(html, "text/html; charset=utf-8", statusCode: status);
    }

    private static string Resource(string name)
    {
        using var stream = typeof(AdminPage).Assembly.GetManifestResourceStream("GrpcPlugins.Admin." + name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
