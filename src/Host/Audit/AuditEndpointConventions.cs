using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Audit;

/// <summary>Marks an admin endpoint as an action the audit trail records.</summary>
internal static class AuditEndpointConventions
{
    /// <summary>Records every answer of this endpoint as <paramref name="action"/> (such as "plugin.enable").</summary>
    public static RouteHandlerBuilder Audited(this RouteHandlerBuilder builder, string action) =>
        builder.AddEndpointFilter(new AdminAuditFilter(action)).WithMetadata(new AuditedAction(action));
}

/// <summary>Endpoint metadata: the action the audit trail records this endpoint's answers as.</summary>
internal sealed record AuditedAction(string Name);
