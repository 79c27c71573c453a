using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpcPlugins.Host.Registry;

/// <summary>plugin.json as written, before validation. docs/manifest.md documents each field.</summary>
internal sealed class ManifestDocument
{
    [JsonPropertyName("$schema")]
    public string? Schema { get; set; }

    public string? Id { get; set; }

    public string? Name { get; set; }

    public string? Version { get; set; }

    public string? Description { get; set; }

    public string? Author { get; set; }

    public string? License { get; set; }

    public string? Command { get; set; }

    public List<string>? Args { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    public string? Assembly { get; set; }

    public AttachDocument? Attach { get; set; }

    public List<int>? ProtocolVersions { get; set; }

    public List<JsonElement>? Hooks { get; set; }

    public List<RouteDocument>? Routes { get; set; }

    public bool AllowAnonymousEndpoints { get; set; }

    public List<string>? Permissions { get; set; }

    public JsonElement? SettingsSchema { get; set; }

    public Hosting.PluginLimitsOptions? Limits { get; set; }

    public string? Restart { get; set; }

    public List<DependencyDocument>? Dependencies { get; set; }

    internal sealed class AttachDocument
    {
        public string? Address { get; set; }
    }

    internal sealed class DependencyDocument
    {
        public string? Id { get; set; }

        public string? Version { get; set; }
    }

    internal sealed class RouteDocument
    {
        public string? Method { get; set; }

        public string? Path { get; set; }

        public bool Anonymous { get; set; }
    }
}
