using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Host.Settings.Schemas;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Settings the schema marks secret ("writeOnly": true or "x-secret": true) are never returned
/// in clear: the admin API shows a mask, and a write that sends the mask back keeps the stored
/// value. A secret may be at any depth: a property of an object, each item of an array or each
/// value of a map, declared in place, through a reference within the schema, or in an
/// <c>allOf</c>/<c>anyOf</c>/<c>oneOf</c> branch; connectors nest their credentials
/// ("connection": {"password": ...}) more often than not.
/// </summary>
internal static class SecretFields
{
    public const string Mask = "********";

    // A schema that refers to itself ("child": {"$ref": "#"}) describes settings of any depth;
    // secrets are looked for to this depth, and in at most this many subschemas in all (two
    // such properties would otherwise double the walk at every level).
    private const int MaxDepth = 32;
    private const int MaxSubschemas = 10_000;

    /// <summary>Where the schema's secrets are, as <see cref="SecretSlots"/> paths ("/apiKey", "/connection/password", "/servers/~e/token").</summary>
    public static IReadOnlySet<string> Of(JsonElement? schema)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        if (schema is { ValueKind: JsonValueKind.Object } root)
        {
            Collect(root, paths);
        }

        return paths;
    }

    /// <summary>The settings with every secret that has a value replaced by the mask.</summary>
    public static string MaskIn(string json, IReadOnlySet<string> secrets)
    {
        if (secrets.Count == 0 || JsonNode.Parse(json) is not JsonObject obj)
        {
            return json;
        }

        foreach (var path in secrets)
        {
            SecretSlots.Replace(obj, path, static (_, _) => Mask);
        }

        return obj.ToJsonString();
    }

    /// <summary>
    /// The new settings with masked secrets taken from the stored settings, from the same place:
    /// the same property, the same map key, the same position in an array.
    /// </summary>
    public static string Unmask(string json, string? storedJson, IReadOnlySet<string> secrets)
    {
        if (secrets.Count == 0 || JsonNode.Parse(json) is not JsonObject obj)
        {
            return json;
        }

        var stored = storedJson is null ? null : JsonNode.Parse(storedJson) as JsonObject;
        foreach (var path in secrets)
        {
            SecretSlots.Replace(obj, path, (place, value) =>
                value is JsonValue masked && masked.TryGetValue<string>(out var text) && text == Mask
                    ? SecretSlots.TryGet(stored, place, out var kept) ? kept?.DeepClone() : null
                    : value);
        }

        return obj.ToJsonString();
    }

    // Breadth first, so that the budget a self-referring schema exhausts is spent on its deep
    // levels, never on the shallow secrets.
    private static void Collect(JsonElement root, HashSet<string> paths)
    {
        var queue = new Queue<(JsonElement Schema, string Path, int Depth)>();
        queue.Enqueue((root, string.Empty, 0));
        for (var budget = MaxSubschemas; queue.Count > 0 && budget > 0; budget--)
        {
            var (schema, path, depth) = queue.Dequeue();
            if (schema.ValueKind != JsonValueKind.Object || depth > MaxDepth)
            {
                continue;
            }

            if (path.Length > 0 && (IsTrue(schema, "writeOnly") || IsTrue(schema, "x-secret")))
            {
                // The whole value is the secret, whatever is inside it.
                paths.Add(path);
                continue;
            }

            foreach (var (inner, step) in Subschemas(schema, root))
            {
                queue.Enqueue((inner, step is null ? path : path + "/" + step, depth + 1));
            }
        }
    }

    /// <summary>Each subschema that describes this value (step null) or a part of it (the step to it).</summary>
    private static IEnumerable<(JsonElement Schema, string? Step)> Subschemas(JsonElement schema, JsonElement root)
    {
        if (schema.TryGetProperty("$ref", out var reference) && reference.ValueKind == JsonValueKind.String && Resolve(root, reference.GetString()!) is { } target)
        {
            yield return (target, null);
        }

        foreach (var branch in (string[])["allOf", "anyOf", "oneOf"])
        {
            if (schema.TryGetProperty(branch, out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var member in list.EnumerateArray())
                {
                    yield return (member, null);
                }
            }
        }

        if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                yield return (property.Value, SecretSlots.Step(property.Name));
            }
        }

        // Each item of an array, each value of a map: a secret there is a secret in every one.
        foreach (var each in (string[])["items", "additionalProperties"])
        {
            if (schema.TryGetProperty(each, out var inner))
            {
                foreach (var member in inner.ValueKind == JsonValueKind.Array ? [.. inner.EnumerateArray()] : new[] { inner })
                {
                    yield return (member, SecretSlots.Each);
                }
            }
        }

        if (schema.TryGetProperty("patternProperties", out var patterned) && patterned.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in patterned.EnumerateObject())
            {
                yield return (property.Value, SecretSlots.Each);
            }
        }
    }

    // A reference within the schema ("#/definitions/secret"); the host resolves no other.
    private static JsonElement? Resolve(JsonElement root, string reference)
    {
        if (!SchemaReference.IsLocal(reference))
        {
            return null;
        }

        var node = root;
        foreach (var name in SchemaReference.Steps(reference))
        {
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(name, out var child))
            {
                node = child;
            }
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(name, out var index) && index >= 0 && index < node.GetArrayLength())
            {
                node = node[index];
            }
            else
            {
                return null;
            }
        }

        return node;
    }

    private static bool IsTrue(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}
