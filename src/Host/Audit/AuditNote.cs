using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Audit;

/// <summary>
/// What an audited endpoint knows only once it has acted (the plugin a bundle turned out to
/// be, the revision a write made), set on the request for <see cref="AdminAuditFilter"/>.
/// </summary>
internal sealed class AuditNote
{
    /// <summary>The plugin acted on, when the route does not name it.</summary>
    public string? PluginId { get; set; }

    /// <summary>Who acted, when the request's user is not yet it (a sign-in).</summary>
    public string? Actor { get; set; }

    /// <summary>What was done, for an action that succeeded (a refusal's problem detail is taken as is).</summary>
    public string? Detail { get; set; }

    /// <summary>The note of an audited request, or a throwaway one outside the audit filter.</summary>
    public static AuditNote Of(HttpContext context) => context.Features.Get<AuditNote>() ?? new AuditNote();
}
