using System.Text.Json;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// The settings schema a plugin with none in its manifest published in Describe, kept from
/// its last start: its secrets stay masked and sealed, and writes validated, while no worker
/// of it is up (stopped, crashed, restarting). Before its first start on this host, what the
/// store kept (<see cref="DescribedSchemas"/>).
/// </summary>
internal sealed class DescribedSettingsSchema
{
    private volatile Kept? _kept;

    /// <summary>The schema, or null when none was published (or none yet).</summary>
    public JsonElement? Schema => _kept?.Schema;

    /// <summary>Keeps what a started worker's Describe published; empty for none.</summary>
    public void Keep(string schemaJson)
    {
        if (string.IsNullOrWhiteSpace(schemaJson))
        {
            _kept = null;
            return;
        }

        // A clone owns its memory: the parsed document goes back to the pool at once, and readers of the old one are never cut off.
        using var document = JsonDocument.Parse(schemaJson);
        _kept = new Kept(document.RootElement.Clone());
    }

    private sealed record Kept(JsonElement Schema);
}
