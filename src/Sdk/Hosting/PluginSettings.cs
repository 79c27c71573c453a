namespace GrpcPlugins.Sdk;

/// <summary>Settings the host pushed to the plugin.</summary>
/// <param name="TenantId">The tenant, or empty for the plugin-wide settings.</param>
/// <param name="Json">The settings as a JSON object, already valid against the plugin's schema.</param>
/// <param name="Revision">Increases with every change.</param>
public sealed record PluginSettings(string TenantId, string Json, long Revision)
{
    /// <summary>
    /// True when an admin deleted the tenant's settings: forget what you kept for
    /// <see cref="TenantId"/>. <see cref="Json"/> is then "{}" and <see cref="Revision"/> 0;
    /// the tenant's next settings start again at revision 1. The deletion is already
    /// committed, so errors returned for it are logged by the host and change nothing.
    /// </summary>
    public bool Removed { get; init; }
}

/// <summary>One setting the plugin refuses.</summary>
/// <param name="Path">JSON pointer to the field, for example "/greeting".</param>
/// <param name="Message">What is wrong and how to fix it.</param>
public sealed record SettingError(string Path, string Message);
