using System.Collections.Concurrent;
using GrpcPlugins.Host.Settings.Schemas;
using NJsonSchema;

namespace GrpcPlugins.Host.Settings;

/// <summary>Validates settings against a plugin's JSON Schema, reporting every field error at once.</summary>
internal sealed class SettingsValidator
{
    private readonly ConcurrentDictionary<string, Lazy<Task<JsonSchema>>> _schemas = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BoundedPattern> _patterns = new(StringComparer.Ordinal);

    /// <summary>
    /// What keeps a settings schema from being used, each with its path under <paramref name="at"/>:
    /// a reference outside it, a pattern that does not compile, or what NJsonSchema cannot load.
    /// Empty when the schema is usable.
    /// </summary>
    public static IReadOnlyList<string> Problems(string schemaJson, string at)
    {
        var prepared = SchemaPreparation.Prepare(schemaJson, at);
        if (prepared.Problems.Count > 0)
        {
            return prepared.Problems;
        }

        try
        {
            // Only references within the schema are left, so loading it does no I/O.
            _ = JsonSchema.FromJsonAsync(prepared.Json).GetAwaiter().GetResult();
            return [];
        }
        catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            return [$"{at}: not a JSON Schema the host can load: {ex.Message}"];
        }
    }

    /// <summary>Field errors as (JSON pointer, message); empty when valid or when there is no schema.</summary>
    /// <exception cref="InvalidOperationException">The schema has <see cref="Problems"/>; they are checked when a manifest is read and a plugin starts.</exception>
    public async Task<IReadOnlyList<(string Path, string Message)>> ValidateAsync(string schemaJson, string settingsJson)
    {
        if (string.IsNullOrWhiteSpace(schemaJson))
        {
            return [];
        }

        var schema = await _schemas.GetOrAdd(schemaJson, static s => new(() => LoadAsync(s))).Value.ConfigureAwait(false);
        try
        {
            return [.. new BoundedPatternValidator(_patterns).Validate(settingsJson, schema).Select(e => (Pointer(e.Path), Describe(e)))];
        }
        catch (Newtonsoft.Json.JsonException ex)
        {
            return [("", $"not valid JSON: {ex.Message}")];
        }
        catch (PatternTimeoutException ex)
        {
            return [(Pointer(ex.Path), ex.Message)];
        }
    }

    private static Task<JsonSchema> LoadAsync(string schemaJson)
    {
        var prepared = SchemaPreparation.Prepare(schemaJson);
        return prepared.Problems.Count > 0
            ? throw new InvalidOperationException("the plugin's settings schema cannot be used: " + string.Join(" ", prepared.Problems))
            : JsonSchema.FromJsonAsync(prepared.Json);
    }

    private static string Pointer(string? path) =>
        string.IsNullOrEmpty(path) || path == "#" ? "" : "/" + path.TrimStart('#', '/').Replace('.', '/');

    private static string Describe(NJsonSchema.Validation.ValidationError error) => error.Kind switch
    {
        NJsonSchema.Validation.ValidationErrorKind.PropertyRequired => $"'{error.Property}' is required",
        NJsonSchema.Validation.ValidationErrorKind.NoAdditionalPropertiesAllowed => $"'{error.Property}' is not a known setting",
        _ => $"{error.Kind}: does not match the schema" + (error.Schema?.Description is { Length: > 0 } d ? $" ({d})" : ""),
    };
}
