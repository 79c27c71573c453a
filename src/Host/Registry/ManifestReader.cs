using System.Text.Json;
using System.Text.RegularExpressions;
using GrpcPlugins.Host.Files;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Supervisor.Policies;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Reads and validates plugin.json. Every problem is reported at once, each
/// with its field path and the fix, so an author fixes a manifest in one pass.
/// </summary>
internal static partial class ManifestReader
{
    public const string FileName = "plugin.json";

    // A manifest is a few KiB; a file a thousand times that is something else.
    private const int MaxBytes = 1 << 20;

    /// <summary>The permissions a plugin may ask for.</summary>
    public static IReadOnlySet<string> KnownPermissions { get; } = new HashSet<string>(StringComparer.Ordinal) { "settings.read", "settings.write" };

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads <c>plugin.json</c> in <paramref name="folder"/>; on failure returns null and every error.</summary>
    public static PluginManifest? Read(string folder, out IReadOnlyList<string> errors)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            errors = [$"{path}: no {FileName}; every plugin folder needs one."];
            return null;
        }

        string json;
        try
        {
            json = RegularFile.ReadAllText(path, MaxBytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors = [ex.Message];
            return null;
        }

        var manifest = Parse(json, Path.GetFullPath(folder), out errors);
        if (manifest?.Command is { } command && ManifestCommand.Problem(command, manifest.Folder) is { } problem)
        {
            errors = [problem];
            return null;
        }

        return manifest;
    }

    /// <summary>Parses and validates manifest text for a plugin in <paramref name="folder"/>.</summary>
    public static PluginManifest? Parse(string json, string folder, out IReadOnlyList<string> errors)
    {
        ManifestDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<ManifestDocument>(json, s_json);
        }
        catch (JsonException ex)
        {
            errors = [$"{ex.Path ?? "$"}: {FirstSentence(ex.Message)} Fix the JSON (see docs/manifest.md for the fields)."];
            return null;
        }

        var list = new List<string>();
        if (doc is null)
        {
            errors = ["$: the manifest is empty; write a JSON object."];
            return null;
        }

        if (string.IsNullOrWhiteSpace(doc.Id) || !IdPattern().IsMatch(doc.Id))
        {
            list.Add($"$.id: '{doc.Id}' is not a valid id; use 1-64 lower-case letters, digits and '-', starting with a letter.");
        }

        if (string.IsNullOrWhiteSpace(doc.Version) || !SemVerPattern().IsMatch(doc.Version))
        {
            list.Add($"$.version: '{doc.Version}' is not a SemVer version such as '1.2.3'.");
        }

        if ((doc.Command is null ? 0 : 1) + (doc.Assembly is null ? 0 : 1) + (doc.Attach is null ? 0 : 1) != 1)
        {
            list.Add("$: set exactly one of 'command' (an executable, with 'args'), 'assembly' (a .NET plugin assembly run by PluginWorker) or 'attach' (a worker that runs elsewhere, reached over mutual TLS).");
        }

        var attachAddress = doc.Attach is { } attach ? ReadAttach(attach, doc, list) : null;

        if (doc.Assembly is not null && !File.Exists(Path.Combine(folder, doc.Assembly)))
        {
            list.Add($"$.assembly: '{doc.Assembly}' does not exist in {folder}.");
        }

        var versions = doc.ProtocolVersions ?? [1];
        if (versions.Count == 0 || versions.Any(v => v < 1))
        {
            list.Add("$.protocolVersions: list the app protocol versions the plugin speaks, e.g. [1].");
        }

        var hooks = new List<ManifestHook>();
        for (var i = 0; i < (doc.Hooks?.Count ?? 0); i++)
        {
            var hook = doc.Hooks![i];
            if (hook.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(hook.GetString()))
            {
                hooks.Add(new ManifestHook(hook.GetString()!, 0));
            }
            else if (hook.ValueKind == JsonValueKind.Object && hook.TryGetProperty("point", out var point) && point.ValueKind == JsonValueKind.String)
            {
                var priority = hook.TryGetProperty("priority", out var p) && p.TryGetInt32(out var n) ? n : 0;
                var match = hook.TryGetProperty("match", out var m) ? ManifestHookMatch.Read(m, $"$.hooks[{i}].match", list) : HookMatch.Any;
                hooks.Add(new ManifestHook(point.GetString()!, priority, match));
            }
            else
            {
                list.Add($"$.hooks[{i}]: write a hook point name, or {{\"point\": \"request\", \"priority\": 10}}.");
            }
        }

        var routes = new List<ManifestRoute>();
        for (var i = 0; i < (doc.Routes?.Count ?? 0); i++)
        {
            var route = doc.Routes![i];
            if (!GrpcPlugins.Routing.RouteTemplate.TryParse(route.Path, out var template, out var error))
            {
                list.Add($"$.routes[{i}].path: {error}");
                continue;
            }

            routes.Add(new ManifestRoute((route.Method ?? "*").ToUpperInvariant(), template, route.Anonymous));
        }

        foreach (var (permission, i) in (doc.Permissions ?? []).Select((p, i) => (p, i)))
        {
            if (!KnownPermissions.Contains(permission))
            {
                list.Add($"$.permissions[{i}]: unknown permission '{permission}'; known: {string.Join(", ", KnownPermissions)}.");
            }
        }

        if (doc.SettingsSchema is { } schema && schema.ValueKind != JsonValueKind.Object)
        {
            list.Add("$.settingsSchema: must be a JSON Schema object.");
        }
        else if (doc.SettingsSchema is { } objectSchema)
        {
            list.AddRange(Settings.SettingsValidator.Problems(objectSchema.GetRawText(), "$.settingsSchema"));
        }

        var limits = doc.Limits ?? new PluginLimitsOptions();
        limits.Check(field => $"$.limits.{field}", list);

        var environment = ManifestEnvironment.Read(doc.Env, folder, list);

        var dependencies = new List<ManifestDependency>();
        for (var i = 0; i < (doc.Dependencies?.Count ?? 0); i++)
        {
            var dependency = doc.Dependencies![i];
            if (string.IsNullOrWhiteSpace(dependency.Id))
            {
                list.Add($"$.dependencies[{i}].id: name the plugin this one needs.");
            }
            else if (!NuGet.Versioning.VersionRange.TryParse(dependency.Version ?? "0.0.0", out var range))
            {
                list.Add($"$.dependencies[{i}].version: '{dependency.Version}' is not a version range; write e.g. \"1.0.0\" (at least) or \"[1.0.0, 2.0.0)\".");
            }
            else
            {
                dependencies.Add(new ManifestDependency(dependency.Id, range));
            }
        }

        RestartMode restart = RestartMode.Permanent;
        if (doc.Restart is not null && !Enum.TryParse(doc.Restart, ignoreCase: true, out restart))
        {
            list.Add($"$.restart: '{doc.Restart}' is not one of permanent, transient, temporary.");
        }

        errors = list;
        if (list.Count > 0)
        {
            return null;
        }

        return new PluginManifest(
            doc.Id!,
            doc.Name ?? doc.Id!,
            doc.Version!,
            doc.Description ?? string.Empty,
            folder,
            doc.Command,
            doc.Args ?? [],
            doc.Assembly is null ? null : Path.GetFullPath(Path.Combine(folder, doc.Assembly)),
            versions,
            hooks,
            routes,
            doc.AllowAnonymousEndpoints,
            doc.Permissions ?? [],
            doc.SettingsSchema,
            limits.ToLimits(),
            restart,
            dependencies,
            environment)
        {
            AttachAddress = attachAddress,
        };
    }

    /// <summary>An attached worker's address; what only a spawned worker can have is refused, since the host could not honour it.</summary>
    private static Uri? ReadAttach(ManifestDocument.AttachDocument attach, ManifestDocument doc, List<string> errors)
    {
        if (doc.Args is { Count: > 0 } || doc.Env is { Count: > 0 })
        {
            errors.Add("$.attach: an attached worker's arguments and environment are set by whoever runs it; remove 'args' and 'env'.");
        }

        if (doc.Limits is { MemoryMiB: not null } or { DataMiB: not null } or { MaxThreads: not null } or { Cpus: not null })
        {
            errors.Add("$.attach: an attached worker's memory, threads, CPU and disk are limited where it runs (its container's limits); remove limits.memoryMiB, limits.maxThreads, limits.cpus and limits.dataMiB.");
        }

        if (!Uri.TryCreate(attach.Address, UriKind.Absolute, out var address)
            || address.Scheme != Uri.UriSchemeHttps
            || address.Host.Length == 0
            || address.IsDefaultPort && !attach.Address!.Contains(":443", StringComparison.Ordinal)
            || address.AbsolutePath != "/"
            || address.Query.Length > 0
            || address.UserInfo.Length > 0)
        {
            errors.Add($"$.attach.address: '{attach.Address}' is not an https address with a host and a port, such as https://orders-plugin.internal:7001. The worker's certificate must name that host.");
            return null;
        }

        return address;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemVerPattern();
}
