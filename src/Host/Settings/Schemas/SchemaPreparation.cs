using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace GrpcPlugins.Host.Settings.Schemas;

/// <summary>
/// Makes a plugin's settings schema safe to load and run in the host. NJsonSchema fetches a
/// <c>$ref</c> that names a URL (a third-party manifest would make the host send requests
/// wherever it says) and matches <c>pattern</c> and <c>patternProperties</c> with no time
/// limit. So references must stay within the schema, every pattern must compile, and the
/// patterns are moved where NJsonSchema does not match them, for
/// <see cref="BoundedPatternValidator"/> to match in bounded time.
/// </summary>
internal static class SchemaPreparation
{
    /// <summary>Where a schema's <c>pattern</c> is moved: NJsonSchema keeps unknown keywords as extension data.</summary>
    public const string PatternKeyword = "x-grpcplugins-pattern";

    // A patternProperties key NJsonSchema can never match, which still carries the pattern.
    private const string NeverMatches = "(?!)";

    /// <summary>The schema rewritten, or its problems, each named by its path under <paramref name="at"/>.</summary>
    public static PreparedSchema Prepare(string schemaJson, string at = "$")
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(schemaJson);
        }
        catch (JsonException ex)
        {
            return new(string.Empty, [$"{at}: not valid JSON: {ex.Message}"]);
        }

        var problems = new List<string>();
        if (root is not JsonObject)
        {
            return new(string.Empty, [$"{at}: a settings schema must be a JSON object."]);
        }

        FindOutsideReferences(root, at, problems);
        if (problems.Count == 0)
        {
            new Walk(root, problems).Schema(root, at);
        }

        return problems.Count == 0 ? new(root.ToJsonString(), []) : new(string.Empty, problems);
    }

    /// <summary>The pattern a rewritten <c>patternProperties</c> key carries, or null for a key not rewritten.</summary>
    public static string? PatternOfPropertyKey(string key) =>
        key.StartsWith(NeverMatches, StringComparison.Ordinal) ? Regex.Unescape(key[NeverMatches.Length..]) : null;

    // Anywhere, not only in schema keywords: NJsonSchema resolves references in extension data too.
    private static void FindOutsideReferences(JsonNode? node, string path, List<string> problems)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (key == "$ref" && value is JsonValue reference && reference.TryGetValue<string>(out var target) && !SchemaReference.IsLocal(target))
                    {
                        problems.Add($"{path}.$ref: '{target}' points outside the schema, and the host resolves only references within it (\"#\" or \"#/definitions/...\"); copy what it points to into the schema's \"definitions\" and refer to it there.");
                    }

                    FindOutsideReferences(value, $"{path}.{key}", problems);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    FindOutsideReferences(array[i], $"{path}[{i}]", problems);
                }

                break;
        }
    }

    /// <summary>One pass over the subschemas NJsonSchema's validator visits, and those references reach.</summary>
    private sealed class Walk(JsonNode root, List<string> problems)
    {
        private readonly HashSet<JsonNode> _seen = new(ReferenceEqualityComparer.Instance);

        public void Schema(JsonNode? node, string path)
        {
            if (node is not JsonObject schema || !_seen.Add(schema))
            {
                return;
            }

            foreach (var (key, value) in schema.ToList())
            {
                switch (key)
                {
                    case "pattern" when value is JsonValue v && v.TryGetValue<string>(out var pattern):
                        if (Compiles(pattern, $"{path}.pattern"))
                        {
                            schema.Remove(key);
                            schema[PatternKeyword] = pattern;
                        }

                        break;
                    case "patternProperties" when value is JsonObject map:
                        PatternProperties(map, $"{path}.patternProperties");
                        break;
                    case "properties" or "definitions" or "$defs" or "dependencies" when value is JsonObject map:
                        foreach (var (name, child) in map.ToList())
                        {
                            Schema(child, $"{path}.{key}.{name}");
                        }

                        break;
                    case "items" or "allOf" or "anyOf" or "oneOf" or "prefixItems" when value is JsonArray list:
                        for (var i = 0; i < list.Count; i++)
                        {
                            Schema(list[i], $"{path}.{key}[{i}]");
                        }

                        break;
                    case "items" or "additionalProperties" or "additionalItems" or "not" or "if" or "then" or "else" or "contains" or "propertyNames":
                        Schema(value, $"{path}.{key}");
                        break;
                    case "$ref" when value is JsonValue v && v.TryGetValue<string>(out var reference):
                        Schema(Resolve(reference), reference);
                        break;
                }
            }
        }

        private void PatternProperties(JsonObject map, string path)
        {
            var entries = map.ToList();
            if (!entries.All(e => Compiles(e.Key, $"{path}['{e.Key}']")))
            {
                return;
            }

            map.Clear();
            foreach (var (pattern, child) in entries)
            {
                map[NeverMatches + Regex.Escape(pattern)] = child;
                Schema(child, $"{path}['{pattern}']");
            }
        }

        private bool Compiles(string pattern, string path)
        {
            if (BoundedPattern.TryCreate(pattern, out var error) is not null)
            {
                return true;
            }

            problems.Add($"{path}: '{pattern}' is not a regular expression the host can run: {error}");
            return false;
        }

        // A JSON pointer within the schema ("#/definitions/a"); what it does not reach, NJsonSchema reports when it loads.
        private JsonNode? Resolve(string reference)
        {
            var node = root;
            foreach (var name in SchemaReference.Steps(reference))
            {
                node = node switch
                {
                    JsonObject obj => obj[name],
                    JsonArray array when int.TryParse(name, out var index) && index >= 0 && index < array.Count => array[index],
                    _ => null,
                };
            }

            return node;
        }
    }
}
