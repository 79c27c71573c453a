using System.Collections.Concurrent;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using NJsonSchema.Validation;

namespace GrpcPlugins.Host.Settings.Schemas;

/// <summary>
/// NJsonSchema's validator, with the patterns <see cref="SchemaPreparation"/> moved out of
/// its reach matched here, in bounded time. It reports them as NJsonSchema would: a
/// <see cref="ValidationErrorKind.PatternMismatch"/> for a string, and a property matching a
/// <c>patternProperties</c> key is validated against that key's schema instead of counting
/// as an additional property.
/// </summary>
internal sealed class BoundedPatternValidator(ConcurrentDictionary<string, BoundedPattern> patterns) : JsonSchemaValidator
{
    protected override ICollection<ValidationError> Validate(JToken token, JsonSchema schema, SchemaType schemaType, string? propertyName, string propertyPath)
    {
        var errors = base.Validate(token, schema, schemaType, propertyName, propertyPath);
        if (token.Type == JTokenType.String
            && schema.ExtensionData?.TryGetValue(SchemaPreparation.PatternKeyword, out var pattern) == true
            && pattern is string text
            && !Compiled(text).IsMatch(token.Value<string>()!, propertyPath))
        {
            errors.Add(new ValidationError(ValidationErrorKind.PatternMismatch, propertyName, propertyPath, token, schema));
        }

        if (token is JObject obj && schema.PatternProperties.Count > 0)
        {
            PatternProperties(obj, schema, schemaType, propertyPath, errors);
        }

        return errors;
    }

    // NJsonSchema matched none of the rewritten keys, so it took every undeclared property
    // for an additional one; each that a pattern matches is taken back from that judgement.
    private void PatternProperties(JObject obj, JsonSchema schema, SchemaType schemaType, string propertyPath, ICollection<ValidationError> errors)
    {
        foreach (var property in obj.Properties().Where(p => !schema.Properties.ContainsKey(p.Name)))
        {
            var match = schema.PatternProperties.FirstOrDefault(p =>
                SchemaPreparation.PatternOfPropertyKey(p.Key) is { } key && Compiled(key).IsMatch(property.Name, property.Path));
            if (match.Value is null)
            {
                continue;
            }

            var asAdditional = string.IsNullOrEmpty(propertyPath) ? property.Name : propertyPath + "." + property.Name;
            foreach (var taken in errors.Where(e => e.Property == property.Name && Bare(e.Path) is var at && (at == asAdditional || at == property.Path)
                && e.Kind is ValidationErrorKind.NoAdditionalPropertiesAllowed or ValidationErrorKind.AdditionalPropertiesNotValid).ToList())
            {
                errors.Remove(taken);
            }

            var childErrors = Validate(property.Value, match.Value.ActualSchema, schemaType, null, property.Path);
            if (childErrors.Count > 0)
            {
                errors.Add(new ChildSchemaValidationError(ValidationErrorKind.AdditionalPropertiesNotValid, property.Name, property.Path,
                    new Dictionary<JsonSchema, ICollection<ValidationError>> { [match.Value] = childErrors }, property.Value, match.Value));
            }
        }
    }

    // NJsonSchema's errors carry the path they were given as "#/a.b".
    private static string Bare(string? path) => path is null or "#" ? string.Empty : path.StartsWith("#/", StringComparison.Ordinal) ? path[2..] : path;

    private BoundedPattern Compiled(string pattern) =>
        patterns.GetOrAdd(pattern, static p => BoundedPattern.TryCreate(p, out _) ?? throw new InvalidOperationException($"pattern '{p}' was checked when its schema was prepared"));
}
