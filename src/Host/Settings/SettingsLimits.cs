namespace GrpcPlugins.Host.Settings;

/// <summary>
/// How much a plugin's settings may take in the host's store. A plugin writes its own
/// settings, for any tenant id it likes, and every start offers all of them back to it
/// (read whole into the host's memory first): unbounded, a buggy or hostile plugin could
/// fill the host's disk, its memory at the next start, or make that start last for hours.
/// </summary>
/// <param name="MaxDocumentBytes">One settings document, plugin-wide or one tenant's, in UTF-8 bytes.</param>
/// <param name="MaxTenants">Tenant scopes per plugin (the plugin-wide scope not counted).</param>
/// <param name="MaxTotalBytes">Every scope of one plugin together.</param>
internal sealed record SettingsLimits(int MaxDocumentBytes, int MaxTenants, long MaxTotalBytes)
{
    /// <summary>Why writing <paramref name="documentBytes"/> to a scope is refused, or null when it fits.</summary>
    /// <param name="documentBytes">The new document's size.</param>
    /// <param name="others">What the plugin's other scopes take.</param>
    /// <param name="newTenant">Whether the write creates a tenant scope.</param>
    public SettingsLimitProblem? Check(int documentBytes, SettingsUsage others, bool newTenant)
    {
        if (documentBytes > MaxDocumentBytes)
        {
            return new(true, $"the settings are {documentBytes} bytes, over this host's limit of {MaxDocumentBytes} for one plugin and tenant (PluginHost:MaxSettingsBytes). Keep large data out of settings.");
        }

        if (newTenant && others.TenantScopes >= MaxTenants)
        {
            return new(false, $"the plugin already has settings for {others.TenantScopes} tenants, this host's limit (PluginHost:MaxSettingsTenants). Raise the limit if the plugin really serves that many tenants.");
        }

        if (others.Bytes + documentBytes > MaxTotalBytes)
        {
            return new(false, $"the plugin's settings would take {others.Bytes + documentBytes} bytes, over this host's limit of {MaxTotalBytes} for one plugin (PluginHost:MaxSettingsBytesPerPlugin).");
        }

        return null;
    }
}

/// <summary>A refused write: <paramref name="TooLarge"/> when the document alone is over its limit, else the plugin's store is full.</summary>
internal sealed record SettingsLimitProblem(bool TooLarge, string Message);
