using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// What the admin page and its sign-in form are served with. The page is the host's most
/// powerful client (it installs plugins, reads their settings, holds the admin's cookie) and
/// shows text that plugins write (names, errors, log lines): should any of it ever reach the
/// page as markup, only the page's own script and style may run, it may talk only to its own
/// host, and no other site may frame it to steer an admin's clicks.
/// </summary>
internal static partial class PageSecurityPolicy
{
    /// <summary>The Content-Security-Policy for <paramref name="html"/>, allowing its inline script and style by their hashes.</summary>
    public static string For(string html)
    {
        var scripts = Hashes(ScriptBlock(), html);
        var styles = Hashes(StyleBlock(), html);
        return $"default-src 'none'; script-src {Sources(scripts)}; style-src {Sources(styles)}; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    }

    /// <summary>Sets the policy and the headers older browsers read instead.</summary>
    public static void Apply(HttpResponse response, string policy)
    {
        response.Headers.ContentSecurityPolicy = policy;
        response.Headers.XFrameOptions = "DENY";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
    }

    private static List<string> Hashes(Regex block, string html) =>
        [.. block.Matches(html).Select(m => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(m.Groups[1].Value)))}'")];

    private static string Sources(List<string> hashes) => hashes.Count == 0 ? "'none'" : string.Join(' ', hashes);

    [GeneratedRegex("<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ScriptBlock();

    [GeneratedRegex("<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleBlock();
}
