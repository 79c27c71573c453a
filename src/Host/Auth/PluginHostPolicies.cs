namespace GrpcPlugins.Host.Auth;

/// <summary>The authorization policy the host applies to the admin API and to every non-anonymous plugin route.</summary>
public static class PluginHostPolicies
{
    /// <summary>The policy name; a host application may redefine this policy with its own requirements.</summary>
    public const string Admin = "PluginHostAdmin";
}
