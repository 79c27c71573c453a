namespace GrpcPlugins.Host.Settings.Schemas;

/// <summary>A <c>$ref</c> within a settings schema: "#" or a JSON pointer such as "#/definitions/secret".</summary>
internal static class SchemaReference
{
    /// <summary>Whether the host resolves it: references outside the schema are refused (<see cref="SchemaPreparation"/>).</summary>
    public static bool IsLocal(string reference) => reference == "#" || reference.StartsWith("#/", StringComparison.Ordinal);

    /// <summary>The property names and indexes the pointer steps through, decoded.</summary>
    public static IEnumerable<string> Steps(string reference) =>
        reference.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => Uri.UnescapeDataString(s).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
}
