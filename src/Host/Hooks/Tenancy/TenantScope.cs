using System.Collections.Frozen;

namespace GrpcPlugins.Host.Hooks.Tenancy;

/// <summary>Whether a tenant scope names the tenants a plugin takes, the ones it does not, or neither.</summary>
public enum TenantScopeMode
{
    /// <summary>Every call, whatever its tenant.</summary>
    All,

    /// <summary>Only calls for the listed tenants (a call without a tenant is not one of them).</summary>
    Only,

    /// <summary>Every call but those for the listed tenants.</summary>
    Except,
}

/// <summary>
/// Which tenants' hook calls reach a plugin, as an admin set it: a gateway serving many
/// tenants turns a plugin on for the customers who bought it, or off for one that must
/// not have it, without a round trip to the plugin for everyone else.
/// </summary>
internal sealed record TenantScope
{
    private readonly FrozenSet<string> _set;

    public TenantScope(TenantScopeMode mode, IEnumerable<string> tenants)
    {
        Mode = mode;
        Tenants = mode == TenantScopeMode.All ? [] : [.. tenants.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        _set = Tenants.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Every tenant: a plugin no admin has scoped.</summary>
    public static TenantScope All { get; } = new(TenantScopeMode.All, []);

    public TenantScopeMode Mode { get; }

    /// <summary>The listed tenants, sorted; empty for <see cref="TenantScopeMode.All"/>.</summary>
    public IReadOnlyList<string> Tenants { get; }

    /// <summary>True when a call for <paramref name="tenantId"/> ("" for none) reaches the plugin.</summary>
    public bool Takes(string tenantId) => Mode switch
    {
        TenantScopeMode.Only => _set.Contains(tenantId),
        TenantScopeMode.Except => !_set.Contains(tenantId),
        _ => true,
    };

    /// <summary>A one-line account for admins: "every tenant", "only acme, globex", "all but initech".</summary>
    public string Describe() => Mode switch
    {
        TenantScopeMode.Only when Tenants.Count == 0 => "no tenant",
        TenantScopeMode.Only => "only " + string.Join(", ", Tenants),
        TenantScopeMode.Except => "all but " + string.Join(", ", Tenants),
        _ => "every tenant",
    };

    // Value equality over the listed tenants (a record compares list references).
    public bool Equals(TenantScope? other) => other is not null && Mode == other.Mode && Tenants.SequenceEqual(other.Tenants, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Mode, Tenants.Count);
}
