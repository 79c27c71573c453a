using System.Text.Json;
using Grpc.Core;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Reads and writes plugin settings: validated against the plugin's schema at
/// the boundary, offered to the running plugin through Configure (which may
/// refuse them), and only then committed to the store.
/// </summary>
internal sealed class SettingsService(PluginCatalog catalog, IPluginStore store, SettingsValidator validator, CallFailureReporter failures, TimeProvider time)
{
    /// <summary>The plugin's settings; secrets masked when <paramref name="maskSecrets"/>.</summary>
    public async Task<StoredSettings?> GetAsync(string pluginId, string tenantId, bool maskSecrets, CancellationToken cancellationToken)
    {
        var stored = await store.GetSettingsAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false);
        if (stored is null || !maskSecrets || catalog.Find(pluginId)?.Manifest is not { } manifest)
        {
            return stored;
        }

        return stored with { Json = SecretFields.MaskIn(stored.Json, SecretFields.Of(manifest.SettingsSchema)) };
    }

    /// <summary>Validates, offers to the plugin, and commits. <c>pushToPlugin</c> is false when the plugin itself is the writer.</summary>
    public async Task<SettingsWriteResult> PutAsync(string pluginId, string tenantId, string json, bool pushToPlugin, CancellationToken cancellationToken)
    {
        if (catalog.Find(pluginId) is not { Manifest: { } manifest } entry)
        {
            return new SettingsWriteResult.UnknownPlugin();
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new SettingsWriteResult.Invalid([("", "settings must be a JSON object")]);
            }
        }
        catch (JsonException ex)
        {
            return new SettingsWriteResult.Invalid([("", $"not valid JSON: {ex.Message}")]);
        }

        var previous = await store.GetSettingsAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false);
        json = SecretFields.Unmask(json, previous?.Json, SecretFields.Of(manifest.SettingsSchema));
        var schema = SchemaOf(manifest, entry);
        var errors = await validator.ValidateAsync(schema, json).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            return new SettingsWriteResult.Invalid(errors);
        }

        if (pushToPlugin && entry.Supervisor?.ReadyWorker is { } worker)
        {
            // Bounded as at start: a plugin that hangs in Configure must not hold the admin's request.
            using var deadline = new CallDeadline(worker.Spec.Limits.StartTimeout, time, cancellationToken);
            ConfigureResponse reply;
            try
            {
                reply = await worker.Connection.Plugin.ConfigureAsync(
                    new ConfigureRequest { TenantId = tenantId, SettingsJson = json, Revision = (previous?.Revision ?? 0) + 1 },
                    cancellationToken: deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is RpcException or OperationCanceledException or IOException) && !deadline.CallerCancelled)
            {
                var failure = RpcFailureClassifier.Classify(pluginId, ex, deadline, worker);
                failures.Report(failure, "configure", ex);
                return new SettingsWriteResult.NotAnswered(failure);
            }

            if (!reply.Accepted)
            {
                return new SettingsWriteResult.Rejected([.. reply.Errors.Select(e => (e.Path, e.Message))]);
            }
        }

        return new SettingsWriteResult.Committed(await store.PutSettingsAsync(pluginId, tenantId, json, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The manifest's schema is the source of truth; a plugin without one in its manifest may publish it through Describe.</summary>
    public static string SchemaOf(PluginManifest manifest, PluginEntry entry) =>
        manifest.SettingsSchema is { } schema ? schema.GetRawText()
        : entry.Supervisor?.ReadyWorker?.Description.SettingsSchemaJson ?? string.Empty;
}
