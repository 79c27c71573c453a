using System.Text.Json;
using GrpcPlugins.Host.Hooks;

namespace GrpcPlugins.Host.Registry;

/// <summary>Reads a hook's <c>match</c> object from plugin.json, reporting each problem with its path and fix.</summary>
internal static class ManifestHookMatch
{
    private const string Example = "{\"routeIds\": [\"/orders*\"], \"methods\": [\"POST\"], \"contentTypes\": [\"application/json\"], \"headersOnly\": true}";

    public static HookMatch Read(JsonElement match, string path, List<string> errors)
    {
        if (match.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: write an object such as {Example}.");
            return HookMatch.Any;
        }

        foreach (var property in match.EnumerateObject())
        {
            if (property.Name is not ("routeIds" or "methods" or "contentTypes" or "headersOnly"))
            {
                errors.Add($"{path}.{property.Name}: not a match field; use routeIds, methods, contentTypes or headersOnly.");
            }
        }

        var routeIds = Strings(match, "routeIds", path, Routing.HookMatchRules.RouteIdProblem, errors);
        var methods = Strings(match, "methods", path, Routing.HookMatchRules.MethodProblem, errors);
        var contentTypes = Strings(match, "contentTypes", path, Routing.HookMatchRules.ContentTypeProblem, errors);
        var headersOnly = false;
        if (match.TryGetProperty("headersOnly", out var h))
        {
            if (h.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                headersOnly = h.GetBoolean();
            }
            else
            {
                errors.Add($"{path}.headersOnly: write true or false.");
            }
        }

        return new HookMatch(routeIds, contentTypes, headersOnly, methods);
    }

    private static string[] Strings(JsonElement match, string name, string path, Func<string, string?> problem, List<string> errors)
    {
        if (!match.TryGetProperty(name, out var array))
        {
            return [];
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}.{name}: write a list of strings, e.g. {Example}.");
            return [];
        }

        var values = new List<string>();
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var text = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
            var why = text is null ? "write a string" : problem(text) is { } p ? $"'{text}' {p}" : null;
            if (why is null)
            {
                values.Add(text!);
            }
            else
            {
                errors.Add($"{path}.{name}[{i}]: {why}.");
            }

            i++;
        }

        return [.. values];
    }
}
