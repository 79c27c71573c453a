using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Auth;

/// <summary>
/// A read-only admin key (<c>PluginHost:ReadOnlyAdmins</c>): its holder's identity carries
/// <see cref="ClaimType"/> = <see cref="ReadOnly"/>, and the host's default policies let it make
/// safe requests only (GET, HEAD), so a dashboard's key can watch plugins but change nothing.
/// </summary>
public static class AdminAccess
{
    /// <summary>The claim a read-only admin key's identity carries.</summary>
    public const string ClaimType = "gph:admin-access";

    /// <summary>The claim's value for a key that may only read.</summary>
    public const string ReadOnly = "read-only";

    /// <summary>Whether <paramref name="user"/> holds a read-only admin key.</summary>
    public static bool IsReadOnly(ClaimsPrincipal user) => user.HasClaim(ClaimType, ReadOnly);

    /// <summary>
    /// The default policies' rule: a read-only key makes safe requests only. The request comes as
    /// the authorization's resource, as the authorization middleware passes it.
    /// </summary>
    internal static bool Allows(AuthorizationHandlerContext context) =>
        !IsReadOnly(context.User) || context.Resource is HttpContext { Request.Method: var method } && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method));
}
