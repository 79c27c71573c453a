using System.Text.Json;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// The settings schema a plugin with none in its manifest published in Describe, kept from
/// its last start: its secrets stay masked and sealed, and writes validated, while no worker
/// of it is up (stopped, crashed, restarting). Unknown until its first start on this host.
/// </summary>
internal sealed class DescribedSettingsSchema
{
    private volatile JsonDocument? _schema;

    /// <summary>The schema, or null when none was published (or none yet).</summary>
    public JsonElement? Schema => _schema?.RootElement;

    /// <summary>Keeps what a started worker's Describe published; empty for none.</summary>
    public void Keep(string schemaJson) =>
        _schema = string.IsNullOrWhiteSpace(schemaJson) ? null : JsonDocument.Parse(schemaJson);
}
