namespace GrpcPlugins.Host.Auth;

/// <summary>
/// The authorization policies of the plugin host. <c>AddPluginHost</c> defines both as "holds the
/// admin key" unless the application defines them itself (before or after it); redefine them with
/// <c>AddAuthorizationBuilder().AddPolicy(...)</c>.
/// </summary>
public static class PluginHostPolicies
{
    /// <summary>The admin API and page: who may install, configure, enable and disable plugins.</summary>
    public const string Admin = "PluginHostAdmin";

    /// <summary>
    /// Every plugin route its manifest does not declare anonymous: who may call the plugins'
    /// own endpoints. Give it your users' scheme (a JWT bearer, a cookie) so that they reach
    /// plugin routes without the admin key; the caller's name reaches the plugin as the
    /// request's <c>user</c>.
    /// </summary>
    public const string Routes = "PluginHostRoutes";
}
