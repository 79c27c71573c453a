namespace GrpcPlugins.Sdk;

/// <summary>
/// What the host offers this plugin. Every call is scoped to this plugin: it
/// can never reach another plugin's data.
/// </summary>
public interface IPluginHost
{
    /// <summary>Reads this plugin's settings as a JSON object ("{}" when none are stored).</summary>
    /// <param name="tenantId">The tenant, or null for the plugin-wide settings.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<string> GetSettingsJsonAsync(string? tenantId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces this plugin's settings. The host validates them against the
    /// plugin's schema; requires the "settings.write" permission. A write faster
    /// than the host's pace is refused with the wait it names (gRPC's pushback):
    /// this call waits that long and writes again, up to four times, so a burst is
    /// slowed rather than failed; <paramref name="cancellationToken"/> bounds the wait.
    /// </summary>
    /// <param name="settingsJson">The new settings as a JSON object.</param>
    /// <param name="tenantId">The tenant, or null for the plugin-wide settings.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The new revision.</returns>
    Task<long> PutSettingsJsonAsync(string settingsJson, string? tenantId = null, CancellationToken cancellationToken = default);
}
