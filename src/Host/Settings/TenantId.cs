namespace GrpcPlugins.Host.Settings;

/// <summary>
/// What a tenant id may be. It is a key in the store, a value in admin URLs and
/// in every Configure call, so control characters and unbounded lengths are
/// refused where they enter rather than stored to confuse every later reader.
/// </summary>
internal static class TenantId
{
    /// <summary>The longest tenant id accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>Why <paramref name="tenant"/> is not a tenant id ("" is the plugin-wide scope), or null when it is one.</summary>
    public static string? Problem(string tenant)
    {
        if (tenant.Length > MaxLength)
        {
            return $"the tenant id is {tenant.Length} characters long; use at most {MaxLength}.";
        }

        return tenant.Any(char.IsControl)
            ? "the tenant id holds a control character; use printable characters only."
            : null;
    }
}
