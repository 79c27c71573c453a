using System.Text.Json;
using GrpcPlugins.Supervisor.Policies;

namespace GrpcPlugins.Host.Registry;

/// <summary>A validated plugin.json. Paths are absolute; <see cref="Environment"/> has <c>${pluginDir}</c> expanded.</summary>
internal sealed record PluginManifest(
    string Id,
    string Name,
    string Version,
    string Description,
    string Folder,
    string? Command,
    IReadOnlyList<string> Arguments,
    string? Assembly,
    IReadOnlyList<int> ProtocolVersions,
    IReadOnlyList<ManifestHook> Hooks,
    IReadOnlyList<ManifestRoute> Routes,
    bool AllowAnonymousEndpoints,
    IReadOnlyList<string> Permissions,
    JsonElement? SettingsSchema,
    ManifestLimits Limits,
    RestartMode Restart,
    IReadOnlyList<ManifestDependency> Dependencies,
    IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>Where an attached worker serves; null for a plugin the host spawns (<see cref="Command"/> or <see cref="Assembly"/>).</summary>
    public Uri? AttachAddress { get; init; }

    /// <summary>True when the route <paramref name="method"/> <paramref name="path"/> is declared anonymous.</summary>
    public bool IsAnonymous(string method, string path) =>
        AllowAnonymousEndpoints || Routes.Any(r => r.Anonymous && r.Matches(method, path));
}

/// <summary>A plugin this one needs, with the versions it accepts (a NuGet version range such as "[1.0.0, 2.0.0)").</summary>
internal sealed record ManifestDependency(string Id, NuGet.Versioning.VersionRange Versions);

/// <summary>A hook point the plugin handles, and which of its calls.</summary>
internal sealed record ManifestHook(string Point, int Priority, Hooks.HookMatch Match)
{
    public ManifestHook(string point, int priority)
        : this(point, priority, Hooks.HookMatch.Any)
    {
    }
}

/// <summary>A route the plugin serves (see <see cref="Routing.RouteTemplate"/>). A GET route also serves HEAD (RFC 9110, 9.3.2).</summary>
internal sealed record ManifestRoute(string Method, Routing.RouteTemplate Template, bool Anonymous)
{
    /// <summary>The path template as the manifest wrote it.</summary>
    public string Path => Template.Text;

    public bool Matches(string method, string path) =>
        (Method == "*" || string.Equals(Method, method, StringComparison.OrdinalIgnoreCase)
            || (Method == "GET" && string.Equals(method, "HEAD", StringComparison.OrdinalIgnoreCase)))
        && Template.Matches(path);
}

/// <summary>Per-plugin limits; null means the host's default.</summary>
internal sealed record ManifestLimits(int? MemoryMiB, TimeSpan? StartTimeout, TimeSpan? CallTimeout, TimeSpan? RouteTimeout, long? MaxRequestBodyBytes, int? MaxConcurrentCalls = null, int? DataMiB = null, int? MaxWebSockets = null, int? MaxThreads = null, double? Cpus = null)
{
    /// <summary>These limits with every value <paramref name="admin"/> sets in their place.</summary>
    public ManifestLimits OverriddenBy(ManifestLimits admin) => new(
        admin.MemoryMiB ?? MemoryMiB,
        admin.StartTimeout ?? StartTimeout,
        admin.CallTimeout ?? CallTimeout,
        admin.RouteTimeout ?? RouteTimeout,
        admin.MaxRequestBodyBytes ?? MaxRequestBodyBytes,
        admin.MaxConcurrentCalls ?? MaxConcurrentCalls,
        admin.DataMiB ?? DataMiB,
        admin.MaxWebSockets ?? MaxWebSockets,
        admin.MaxThreads ?? MaxThreads,
        admin.Cpus ?? Cpus);
}
