using GrpcPlugins.Host.Hooks.Tenancy;

namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// The tenant scope a plugin has until an admin sets one (<c>PluginHost:DefaultTenantScope</c>).
/// In configuration: <c>{"Mode": "Only"}</c> (no tenant), <c>{"Mode": "Except", "Tenants": ["trial"]}</c>.
/// </summary>
public sealed class DefaultTenantScopeOptions
{
    /// <summary>Every tenant (the default), only the listed ones, or all but them.</summary>
    public TenantScopeMode Mode { get; set; } = TenantScopeMode.All;

    /// <summary>The tenants <see cref="Mode"/> names; none for <see cref="TenantScopeMode.All"/>.</summary>
    public IList<string> Tenants { get; set; } = [];

    internal TenantScope ToScope() => new(Mode, Tenants);
}
