namespace GrpcPlugins.Host.Registry;

/// <summary>
/// What a reload of <paramref name="PluginId"/> would find in its folder: <paramref name="Folder"/>'s version
/// (null when it would be refused, for the <paramref name="Problems"/>), in place of <paramref name="Serving"/>,
/// and the <paramref name="Permissions"/> it asks for that the serving version did not.
/// </summary>
internal sealed record ReloadPreview(string PluginId, string Serving, string? Folder, IReadOnlyList<string> Permissions, IReadOnlyList<string> Problems);
