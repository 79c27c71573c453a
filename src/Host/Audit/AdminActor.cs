using System.Security.Claims;

namespace GrpcPlugins.Host.Audit;

/// <summary>The name an admin action is recorded under, the same in the audit trail, lifecycle events and install records.</summary>
internal static class AdminActor
{
    /// <summary>What an unauthenticated caller (a failed sign-in) is recorded as.</summary>
    public const string Anonymous = "(anonymous)";

    /// <summary>What a caller is recorded as when the application's scheme authenticated it without a name claim.</summary>
    public const string Unnamed = "(unnamed)";

    /// <summary>The user's name (the admin key's is "admin"), or one of the placeholders above.</summary>
    public static string Of(ClaimsPrincipal user) => user.Identity switch
    {
        { IsAuthenticated: true, Name: { Length: > 0 } name } => name,
        { IsAuthenticated: true } => Unnamed,
        _ => Anonymous,
    };
}
