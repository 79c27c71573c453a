using System.Collections.Concurrent;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// The settings schemas plugins publish only in Describe, kept in the store by plugin and version.
/// A plugin the host has not started since it started (disabled, refused, waiting for a dependency,
/// upgraded while disabled) has no worker to ask, yet its stored secrets must stay masked and
/// sealed and its writes validated: without these its settings were shown and written as if it
/// had no schema, secrets in clear.
/// </summary>
internal sealed partial class DescribedSchemas(IPluginStore store, TimeProvider time, ILogger<DescribedSchemas> logger)
{
    private readonly ConcurrentDictionary<string, DescribedSchema[]> _byPlugin = new(StringComparer.Ordinal);

    /// <summary>Reads every kept schema; one the host can no longer use (a hand edit, an older host's rules) is left out and said.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (var kept in (await store.GetDescribedSchemasAsync(cancellationToken).ConfigureAwait(false)).GroupBy(s => s.PluginId, StringComparer.Ordinal))
        {
            var usable = new List<DescribedSchema>();
            foreach (var schema in kept)
            {
                if (schema.SchemaJson.Length > 0 && SettingsValidator.Problems(schema.SchemaJson, "settings_schema_json") is { Count: > 0 } problems)
                {
                    Log.Unusable(logger, schema.PluginId, schema.Version, string.Join(" ", problems));
                    continue;
                }

                usable.Add(schema);
            }

            _byPlugin[kept.Key] = [.. usable];
        }
    }

    /// <summary>
    /// What a new entry of <paramref name="manifest"/> knows before its first start: its version's
    /// own schema, else the newest another version of the plugin published (an upgrade changes a
    /// schema seldom, and a secret masked a little longer than needed costs nothing).
    /// </summary>
    public DescribedSettingsSchema For(PluginManifest manifest)
    {
        var described = new DescribedSettingsSchema();
        if (manifest.SettingsSchema is null && _byPlugin.TryGetValue(manifest.Id, out var kept) && kept.Length > 0)
        {
            var best = kept.FirstOrDefault(s => s.Version == manifest.Version) ?? kept.MaxBy(s => s.At)!;
            described.Keep(best.SchemaJson);
        }

        return described;
    }

    /// <summary>Keeps what a started worker of <paramref name="manifest"/> published in Describe, in the entry and, when it changed, in the store.</summary>
    public async Task KeepAsync(PluginManifest manifest, DescribedSettingsSchema described, string published, CancellationToken cancellationToken)
    {
        if (manifest.SettingsSchema is not null)
        {
            // The manifest's schema is the plugin's; Describe's is not used and not kept.
            described.Keep(string.Empty);
            return;
        }

        described.Keep(published);
        var kept = _byPlugin.GetValueOrDefault(manifest.Id) ?? [];
        if (kept.Any(s => s.Version == manifest.Version && s.SchemaJson == published))
        {
            return;
        }

        var schema = new DescribedSchema(manifest.Id, manifest.Version, published, time.GetUtcNow());
        await store.KeepDescribedSchemaAsync(schema, cancellationToken).ConfigureAwait(false);
        _byPlugin.AddOrUpdate(
            manifest.Id,
            _ => [schema],
            (_, before) => [.. before.Where(s => s.Version != schema.Version).Append(schema).OrderByDescending(s => s.At).Take(DescribedSchema.VersionsKept)]);
    }

    /// <summary>Forgets a plugin uninstalled without its settings (the store dropped its rows with them).</summary>
    public void Forget(string pluginId) => _byPlugin.TryRemove(pluginId, out _);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1113, EventName = "DescribedSchemaUnusable", Level = LogLevel.Warning, Message = "Plugin {PluginId} {Version}: the settings schema it published in Describe, kept in the store, cannot be used ({Problems}); until the plugin starts and describes itself again its settings have no schema (no secret masked). Declare the schema in its plugin.json to keep it from depending on a start.")]
        public static partial void Unusable(ILogger logger, string pluginId, string version, string problems);
    }
}
