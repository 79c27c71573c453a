using System.Text.Json;
using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Whether the settings a plugin has stored satisfy the schema in a manifest.
/// Checked before a start, so a plugin is never sent settings its own schema
/// refuses, and before an upgrade of a serving plugin, so a new version that
/// needs other settings does not replace one that works.
/// </summary>
internal sealed class StoredSettingsCheck(IPluginStore store, SettingsValidator validator)
{
    /// <summary>What is wrong with the stored settings for <paramref name="manifest"/>, or null when nothing is (or its schema comes only from Describe).</summary>
    public async Task<StoredSettingsProblem?> FindAsync(PluginManifest manifest, CancellationToken cancellationToken)
    {
        if (manifest.SettingsSchema is not { } schema)
        {
            return null;
        }

        var all = await store.GetAllSettingsAsync(manifest.Id, cancellationToken).ConfigureAwait(false);
        var scopes = all.Any(s => s.TenantId.Length == 0) ? all : [(string.Empty, new StoredSettings("{}", 0, DateTimeOffset.MinValue)), .. all];
        var missing = MissingRequired(schema, scopes[0].Settings.Json);
        if (missing.Count > 0)
        {
            // The common case, said plainly: a first install or a new version that needs a value.
            return new StoredSettingsProblem($"required settings missing: {string.Join(", ", missing)}", [string.Empty]);
        }

        var failures = new List<string>();
        var tenants = new List<string>();
        foreach (var (tenant, settings) in scopes)
        {
            var errors = await validator.ValidateAsync(schema.GetRawText(), settings.Json).ConfigureAwait(false);
            if (errors.Count > 0)
            {
                var scope = tenant.Length == 0 ? "plugin-wide" : $"tenant '{tenant}'";
                failures.Add($"{scope}: {string.Join("; ", errors.Select(e => e.Path.Length == 0 ? e.Message : $"{e.Path} {e.Message}"))}");
                tenants.Add(tenant);
            }
        }

        return failures.Count == 0 ? null : new StoredSettingsProblem($"stored settings do not match the schema of {manifest.Version} ({string.Join("; ", failures)})", tenants);
    }

    private static List<string> MissingRequired(JsonElement schema, string pluginWide)
    {
        if (!schema.TryGetProperty("required", out var required) || required.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        using var settings = JsonDocument.Parse(pluginWide);
        return [.. required.EnumerateArray()
            .Select(r => r.GetString())
            .OfType<string>()
            .Where(name => !settings.RootElement.TryGetProperty(name, out _))];
    }
}

/// <summary>What is wrong with a plugin's stored settings, and the scopes ("" plugin-wide, else a tenant) to fix.</summary>
internal sealed record StoredSettingsProblem(string What, IReadOnlyList<string> Scopes)
{
    /// <summary>The admin API calls that fix it.</summary>
    public string Calls(string pluginId) =>
        string.Join(" and ", Scopes.Select(tenant => $"PUT /admin/api/plugins/{pluginId}/settings" + (tenant.Length == 0 ? string.Empty : $"?tenant={Uri.EscapeDataString(tenant)}")));
}
