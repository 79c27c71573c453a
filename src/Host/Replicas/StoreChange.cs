using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpcPlugins.Host.Replicas;

/// <summary>What a replica changed in the shared store, as the others must act on it.</summary>
internal enum StoreChangeKind
{
    /// <summary>A scope's settings were written (by an admin or by the plugin itself).</summary>
    Settings,

    /// <summary>A tenant's settings were deleted.</summary>
    SettingsDeleted,

    /// <summary>An admin enabled or disabled the plugin.</summary>
    Enabled,

    /// <summary>An admin set or reset the plugin's tenant scope.</summary>
    TenantScope,

    /// <summary>The plugin was uninstalled without keeping its settings.</summary>
    PluginDeleted,

    /// <summary>A bundle was installed or upgraded on one replica: the others install it too.</summary>
    Installed,

    /// <summary>The plugin was uninstalled on one replica: the others uninstall it too.</summary>
    Uninstalled,
}

/// <summary>
/// One change, sent with PostgreSQL's NOTIFY in the transaction that made it, so the others
/// hear of it exactly when it is committed. It names what changed, never the new value: a
/// replica reads the store, so a late or repeated notice can only apply what is there now.
/// </summary>
/// <param name="Origin">The replica that made it (it does not act on its own notices).</param>
/// <param name="Replica">That replica's name, for the others' events and logs.</param>
/// <param name="Kind">What changed.</param>
/// <param name="PluginId">Whose.</param>
/// <param name="TenantId">The settings' scope, for <see cref="StoreChangeKind.Settings"/> and <see cref="StoreChangeKind.SettingsDeleted"/>; "" otherwise.</param>
internal sealed record StoreChange(Guid Origin, string Replica, StoreChangeKind Kind, string PluginId, string TenantId)
{
    /// <summary>The channel every replica listens on.</summary>
    public const string Channel = "grpc_plugins_changes";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) } };

    public string ToPayload() => JsonSerializer.Serialize(this, Json);

    /// <summary>The change a payload names; null for one this host cannot read (a newer replica's kind).</summary>
    public static StoreChange? FromPayload(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize<StoreChange>(payload, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
