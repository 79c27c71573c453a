namespace GrpcPlugins.Host.Settings.Schemas;

/// <summary>A settings schema rewritten for <see cref="BoundedPatternValidator"/>, or what keeps it from being used.</summary>
/// <param name="Json">The rewritten schema; empty when there are problems.</param>
/// <param name="Problems">Each problem with its path in the schema and how to fix it.</param>
internal sealed record PreparedSchema(string Json, IReadOnlyList<string> Problems);
