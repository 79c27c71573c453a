using System.Collections.Concurrent;
using System.Text.Json;
using GrpcPlugins.Host.Registry;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Seals, in the store, values a plugin's schema marks secret that were written in clear: before
/// the field became secret (an upgrade that marks it <c>writeOnly</c>), or before the host sealed
/// nested secrets at all. Every write seals what it writes; this catches up what is already there,
/// current settings and kept revisions alike, once the plugin's worker is Ready (its schema known,
/// a Describe one included). Once a host run for each plugin and set of secret fields.
/// </summary>
internal sealed partial class StoredSecretsSealing(IPluginStore store, SealedSecrets secrets, LifecycleEvents events, ILogger<StoredSecretsSealing> logger)
{
    private readonly ConcurrentDictionary<string, byte> _done = new(StringComparer.Ordinal);

    public async Task RunAsync(string pluginId, JsonElement? schema, CancellationToken cancellationToken)
    {
        var key = pluginId;
        try
        {
            var fields = SecretFields.Of(schema);
            key = pluginId + "\n" + string.Join("\n", fields.Order(StringComparer.Ordinal));
            if (fields.Count == 0 || !_done.TryAdd(key, 0))
            {
                return;
            }

            var rewritten = await store.SealStoredAsync(pluginId, json => secrets.Seal(json, fields), cancellationToken).ConfigureAwait(false);
            if (rewritten > 0)
            {
                Log.Sealed(logger, pluginId, rewritten);
                events.Record(pluginId, "secrets-sealed", $"{rewritten} stored settings (current or kept revisions) held a value its schema marks secret in clear; sealed in place");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _done.TryRemove(key, out _);
        }
        catch (Exception ex)
        {
            // Its own task, started from a state change: logged here, or nowhere. Tried again at the next start.
            _done.TryRemove(key, out _);
            Log.Failed(logger, pluginId, ex);
            events.Record(pluginId, "secrets-not-sealed", $"{ex.GetType().Name}: {ex.Message}; tried again at its next start");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1114, EventName = "StoredSecretsSealed", Level = LogLevel.Information, Message = "Plugin {PluginId}: {Rows} stored settings held a value its schema marks secret in clear; sealed in place.")]
        public static partial void Sealed(ILogger logger, string pluginId, int rows);

        [LoggerMessage(EventId = 1115, EventName = "StoredSecretsNotSealed", Level = LogLevel.Error, Message = "Plugin {PluginId}: stored values its schema marks secret could not be sealed in place; they stay as written until its next start or their next write.")]
        public static partial void Failed(ILogger logger, string pluginId, Exception exception);
    }
}
