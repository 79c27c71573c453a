using System.Text.Json.Nodes;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// The places in a settings document that a secret field's path (<see cref="SecretFields"/>)
/// names. A path is a JSON pointer whose <see cref="Each"/> step stands for every item of an
/// array or every value of an object: "/servers/~e/password" is each server's password.
/// </summary>
internal static class SecretSlots
{
    /// <summary>A step no escaped property name can be: a pointer escapes '~' as "~0".</summary>
    public const string Each = "~e";

    /// <summary>A property name as one step of a path.</summary>
    public static string Step(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>
    /// Calls <paramref name="visit"/> with each value the path names that the document has (its
    /// place as a concrete pointer, and the value); the value is replaced by what it returns.
    /// </summary>
    public static void Replace(JsonNode root, string path, Func<string, JsonNode?, JsonNode?> visit) =>
        Walk(root, path.Split('/')[1..], 0, string.Empty, visit);

    /// <summary>The value at a concrete pointer, if the document has one there.</summary>
    public static bool TryGet(JsonNode? root, string pointer, out JsonNode? value)
    {
        value = root;
        foreach (var step in pointer.Split('/')[1..])
        {
            var name = Unescape(step);
            switch (value)
            {
                case JsonObject obj when obj.TryGetPropertyValue(name, out var child):
                    value = child;
                    break;
                case JsonArray array when int.TryParse(name, out var index) && index >= 0 && index < array.Count:
                    value = array[index];
                    break;
                default:
                    value = null;
                    return false;
            }
        }

        return true;
    }

    private static void Walk(JsonNode node, string[] steps, int at, string pointer, Func<string, JsonNode?, JsonNode?> visit)
    {
        switch (node)
        {
            case JsonObject obj:
                var names = steps[at] == Each ? [.. obj.Select(p => p.Key)] : obj.ContainsKey(Unescape(steps[at])) ? [Unescape(steps[at])] : Array.Empty<string>();
                foreach (var name in names)
                {
                    Reach(steps, at, pointer + "/" + Step(name), obj[name], value => obj[name] = value, visit);
                }

                break;
            case JsonArray array when steps[at] == Each:
                for (var i = 0; i < array.Count; i++)
                {
                    var index = i;
                    Reach(steps, at, $"{pointer}/{i}", array[i], value => array[index] = value, visit);
                }

                break;
        }
    }

    // One place the path reaches: the value there is visited at the path's last step, walked into before it.
    private static void Reach(string[] steps, int at, string place, JsonNode? value, Action<JsonNode?> replace, Func<string, JsonNode?, JsonNode?> visit)
    {
        if (at < steps.Length - 1)
        {
            if (value is not null)
            {
                Walk(value, steps, at + 1, place, visit);
            }
        }
        else if (visit(place, value) is var replaced && !ReferenceEquals(replaced, value))
        {
            replace(replaced);
        }
    }

    private static string Unescape(string step) => step.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
}
