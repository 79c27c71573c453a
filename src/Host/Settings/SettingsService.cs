using System.Text.Json;
using Grpc.Core;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Workers;

namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Reads and writes plugin settings: validated against the plugin's schema at
/// the boundary, offered to the running plugin through Configure (which may
/// refuse them), and only then committed to the store.
/// </summary>
internal sealed class SettingsService(PluginCatalog catalog, IPluginStore store, SealedSecrets secrets, SettingsValidator validator, SettingsLimits limits, CallFailureReporter failures, LifecycleEvents events, TimeProvider time) : IDisposable
{
    // One offered write at a time per plugin: two writers offering in one order and committing
    // in the other would leave the plugin configured with what the store no longer holds.
    private readonly KeyedGates _writes = new(1);

    /// <summary>The plugin's settings; secrets masked when <paramref name="maskSecrets"/>.</summary>
    public async Task<StoredSettings?> GetAsync(string pluginId, string tenantId, bool maskSecrets, CancellationToken cancellationToken)
    {
        var stored = await store.GetSettingsAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false);
        if (stored is null || !maskSecrets || catalog.Find(pluginId) is not { Manifest: not null } entry)
        {
            return stored;
        }

        return stored with { Json = SecretFields.MaskIn(stored.Json, SecretFields.Of(entry.SettingsSchema)) };
    }

    /// <summary>
    /// Validates, offers to the plugin, and commits. <c>pushToPlugin</c> is false when the plugin itself is the writer.
    /// With <paramref name="expectedRevision"/> (the revision the writer read; 0 for none), a write over a newer revision is a conflict.
    /// </summary>
    public async Task<SettingsWriteResult> PutAsync(string pluginId, string tenantId, string json, bool pushToPlugin, long? expectedRevision, string by, CancellationToken cancellationToken)
    {
        if (catalog.Find(pluginId) is not { Manifest: not null })
        {
            return new SettingsWriteResult.UnknownPlugin();
        }

        // The plugin's own writes are not offered back to it, so they need no turn; and a
        // plugin writing from inside Configure would otherwise wait for the very write that
        // is waiting for its Configure answer.
        using var turn = pushToPlugin ? await _writes.EnterAsync(pluginId, cancellationToken).ConfigureAwait(false) : default;
        var result = await WriteAsync(pluginId, tenantId, json, pushToPlugin, expectedRevision, cancellationToken).ConfigureAwait(false);
        if (result is SettingsWriteResult.Committed committed)
        {
            var scope = tenantId.Length == 0 ? "plugin-wide" : $"tenant '{tenantId}'";
            events.Record(pluginId, "settings-changed", $"{scope} revision {committed.Revision} by {by}");
        }

        return result;
    }

    /// <summary>
    /// Deletes a tenant's settings (an admin freeing a plugin's room under its limits), then
    /// tells the running plugin to forget them (Configure with <c>removed</c>). The deletion
    /// stands whatever the plugin answers: a refusal or a silence is reported, not undone.
    /// </summary>
    public async Task<TenantDeletion> DeleteTenantAsync(string pluginId, string tenantId, string by, CancellationToken cancellationToken)
    {
        // In the writers' turn, so a delete never lands between another write's offer and its commit.
        using var turn = await _writes.EnterAsync(pluginId, cancellationToken).ConfigureAwait(false);
        if (!await store.DeleteSettingsAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false))
        {
            return TenantDeletion.NotFound;
        }

        // Committed: the plugin is told and the event recorded even if the admin stops waiting
        // (the push is bounded by the plugin's start timeout all the same).
        var deletion = await TellPluginAsync(pluginId, tenantId, CancellationToken.None).ConfigureAwait(false);
        events.Record(pluginId, "settings-deleted", deletion.Plugin switch
        {
            TenantRemovalPush.Refused => $"tenant '{tenantId}' by {by}; the running plugin refused to forget them ({deletion.Detail}) and may use them until it restarts",
            TenantRemovalPush.NotAnswered => $"tenant '{tenantId}' by {by}; the running plugin did not answer the removal ({deletion.Detail}) and may use them until it restarts",
            _ => $"tenant '{tenantId}' by {by}",
        });
        return deletion;
    }

    /// <summary>
    /// A write to this scope was committed without being offered to the running plugin here
    /// (another host replica's, or one made while its worker started): it is given what the
    /// store holds now (a later write may have followed; a repeated notice gives the same
    /// again). The write stands whatever the plugin here answers; the outcome says.
    /// </summary>
    public async Task<ReplicaPush> PushStoredAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        using var turn = await _writes.EnterAsync(pluginId, cancellationToken).ConfigureAwait(false);
        if (await store.GetSettingsAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false) is not { } stored)
        {
            // Deleted since: its own notice, or the catch-up's deletion pass, follows.
            return new ReplicaPush(ReplicaPushOutcome.Gone, 0, null);
        }

        if (catalog.Find(pluginId)?.Supervisor?.ReadyWorker is not { } worker)
        {
            return new ReplicaPush(ReplicaPushOutcome.NotRunning, stored.Revision, null);
        }

        var (reply, failure) = await ConfigureAsync(pluginId, worker, new ConfigureRequest { TenantId = tenantId, SettingsJson = stored.Json, Revision = stored.Revision }, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            null => new ReplicaPush(ReplicaPushOutcome.NotAnswered, stored.Revision, failure!.Detail),
            { Accepted: false } => new ReplicaPush(ReplicaPushOutcome.Refused, stored.Revision, string.Join("; ", reply.Errors.Select(e => $"{e.Path}: {e.Message}"))),
            _ => new ReplicaPush(ReplicaPushOutcome.Configured, stored.Revision, null),
        };
    }

    /// <summary>Another host replica deleted a tenant's settings: the running plugin here forgets them too, unless they were written again since.</summary>
    public async Task<TenantDeletion?> PushDeletionAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        using var turn = await _writes.EnterAsync(pluginId, cancellationToken).ConfigureAwait(false);
        return await store.GetSettingsAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false) is null
            ? await TellPluginAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false)
            : null;
    }

    private async Task<TenantDeletion> TellPluginAsync(string pluginId, string tenantId, CancellationToken cancellationToken)
    {
        if (catalog.Find(pluginId)?.Supervisor?.ReadyWorker is not { } worker)
        {
            return new TenantDeletion(true, TenantRemovalPush.NotRunning, null);
        }

        var (reply, failure) = await ConfigureAsync(pluginId, worker, new ConfigureRequest { TenantId = tenantId, SettingsJson = "{}", Revision = 0, Removed = true }, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            null => new TenantDeletion(true, TenantRemovalPush.NotAnswered, failure!.Detail),
            { Accepted: false } => new TenantDeletion(true, TenantRemovalPush.Refused, string.Join("; ", reply.Errors.Select(e => $"{e.Path}: {e.Message}"))),
            _ => new TenantDeletion(true, TenantRemovalPush.Forgotten, null),
        };
    }

    /// <summary>Configure, bounded as at start (a plugin that hangs in it must not hold the admin's request); a failure is reported once.</summary>
    private async Task<(ConfigureResponse? Reply, CallFailure? Failure)> ConfigureAsync(string pluginId, Worker worker, ConfigureRequest request, CancellationToken cancellationToken)
    {
        using var deadline = new CallDeadline(worker.Spec.Limits.StartTimeout, time, cancellationToken);
        try
        {
            return (await worker.Connection.Plugin.ConfigureAsync(request, cancellationToken: deadline.Token).ConfigureAwait(false), null);
        }
        catch (Exception ex) when ((ex is RpcException or OperationCanceledException or IOException) && !deadline.CallerCancelled)
        {
            var failure = RpcFailureClassifier.Classify(pluginId, ex, deadline, worker);
            failures.Report(failure, "configure", ex);
            return (null, failure);
        }
    }

    private async Task<SettingsWriteResult> WriteAsync(string pluginId, string tenantId, string json, bool pushToPlugin, long? expectedRevision, CancellationToken cancellationToken)
    {
        if (catalog.Find(pluginId) is not { Manifest: not null } entry)
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

        var (previous, others) = await store.GetSettingsForWriteAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false);
        if (expectedRevision is { } expected && expected != (previous?.Revision ?? 0))
        {
            return new SettingsWriteResult.Conflict(expected, previous?.Revision ?? 0);
        }

        var secretFields = SecretFields.Of(entry.SettingsSchema);
        json = SecretFields.Unmask(json, previous?.Json, secretFields);

        // Checked before the write rather than in it, so writers racing past the totals
        // overshoot them by at most one document each: a bound, not accounting.
        if (limits.Check(System.Text.Encoding.UTF8.GetByteCount(json), others, newTenant: previous is null && tenantId.Length > 0) is { } overLimit)
        {
            return new SettingsWriteResult.OverLimit(overLimit);
        }

        // The manifest's schema is the source of truth; a plugin without one may publish it through Describe.
        var errors = await validator.ValidateAsync(entry.SettingsSchema?.GetRawText() ?? string.Empty, json).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            return new SettingsWriteResult.Invalid(errors);
        }

        var offeredTo = pushToPlugin ? entry.Supervisor?.ReadyWorker : null;
        if (offeredTo is not null)
        {
            var (reply, failure) = await ConfigureAsync(pluginId, offeredTo, new ConfigureRequest { TenantId = tenantId, SettingsJson = json, Revision = (previous?.Revision ?? 0) + 1 }, cancellationToken).ConfigureAwait(false);
            if (reply is null)
            {
                return new SettingsWriteResult.NotAnswered(failure!);
            }

            if (!reply.Accepted)
            {
                return new SettingsWriteResult.Rejected([.. reply.Errors.Select(e => (e.Path, e.Message))]);
            }
        }

        // The plugin was offered them in clear; the store keeps the secrets sealed. Checked again
        // in the store's own write: another host may share the store.
        long? committed;
        try
        {
            committed = await store.PutSettingsAsync(pluginId, tenantId, secrets.Seal(json, secretFields), expectedRevision, cancellationToken).ConfigureAwait(false);
        }
        catch when (offeredTo is not null)
        {
            // The plugin accepted what the store then refused: it is given back what the store
            // still holds, so that it does not run on settings nobody can read back or restore.
            await ConfigureAsync(pluginId, offeredTo, StillStored(tenantId, previous), CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return committed is { } revision
            ? new SettingsWriteResult.Committed(revision)
            : new SettingsWriteResult.Conflict(expectedRevision ?? 0, (await store.GetSettingsAsync(pluginId, tenantId, cancellationToken).ConfigureAwait(false))?.Revision ?? 0);
    }

    /// <summary>What a scope's plugin is given back when a write it accepted was not committed: the stored settings, or none.</summary>
    private static ConfigureRequest StillStored(string tenantId, StoredSettings? previous) => previous is not null
        ? new ConfigureRequest { TenantId = tenantId, SettingsJson = previous.Json, Revision = previous.Revision }
        : new ConfigureRequest { TenantId = tenantId, SettingsJson = "{}", Revision = 0, Removed = tenantId.Length > 0 };

    public void Dispose()
    {
        _writes.Dispose();
    }
}
