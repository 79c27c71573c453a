using System.Collections.Concurrent;
using NJsonSchema;

namespace GrpcPlugins.Host.Settings;

/// <summary>Validates settings against a plugin's JSON Schema, reporting every field error at once.</summary>
internal sealed class SettingsValidator
{
    private readonly ConcurrentDictionary<string, Task<JsonSchema>> _schemas = new(StringComparer.Ordinal);

    /// <summary>Field errors as (JSON pointer, message); empty when valid or when there is no schema.</summary>
    public async Task<IReadOnlyList<(string Path, string Message)>> ValidateAsync(string schemaJson, string settingsJson)
    {
        if (string.IsNullOrWhiteSpace(schemaJson))
        {
            return [];
        }

        var schema = await _schemas.GetOrAdd(schemaJson, static s => JsonSchema.FromJsonAsync(s)).ConfigureAwait(false);
        try
        {
            return [.. schema.Validate(settingsJson).Select(e => (Pointer(e.Path), Describe(e)))];
        }
        catch (Newtonsoft.Json.JsonException ex)
        {
            return [("", $"not valid JSON: {ex.Message}")];
        }
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
