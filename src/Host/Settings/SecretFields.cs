using System.Text.Json;
using System.Text.Json.Nodes;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Top-level settings marked secret in the schema ("writeOnly": true or
/// "x-secret": true) are never returned in clear: the admin API shows a mask,
/// and a write that sends the mask back keeps the stored value.
/// </summary>
internal static class SecretFields
{
    public const string Mask = "********";

    public static IReadOnlySet<string> Of(JsonElement? schema)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (schema is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Object &&
                    (IsTrue(property.Value, "writeOnly") || IsTrue(property.Value, "x-secret")))
                {
                    names.Add(property.Name);
                }
            }
        }

        return names;
    }

    /// <summary>The settings with every secret that has a value replaced by the mask.</summary>
    public static string MaskIn(string json, IReadOnlySet<string> secrets)
    {
        if (secrets.Count == 0 || JsonNode.Parse(json) is not JsonObject obj)
        {
            return json;
        }

        foreach (var name in secrets.Where(obj.ContainsKey))
        {
            obj[name] = Mask;
        }

        return obj.ToJsonString();
    }

    /// <summary>The new settings with masked secrets taken from the stored settings.</summary>
    public static string Unmask(string json, string? storedJson, IReadOnlySet<string> secrets)
    {
        if (secrets.Count == 0 || JsonNode.Parse(json) is not JsonObject obj)
        {
            return json;
        }

        var stored = storedJson is null ? null : JsonNode.Parse(storedJson) as JsonObject;
        foreach (var name in secrets)
        {
            if (obj[name] is JsonValue value && value.TryGetValue<string>(out var text) && text == Mask)
            {
                obj[name] = stored?[name]?.DeepClone();
            }
        }

        return obj.ToJsonString();
    }

    private static bool IsTrue(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}
