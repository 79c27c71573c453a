using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Settings;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Audit;

/// <summary>
/// The admin actions this host answered, kept in its store (the newest
/// <see cref="PluginHostOptions.AuditEntriesKept"/>), logged and counted.
/// </summary>
internal sealed partial class AuditTrail(IPluginStore store, PluginMetrics metrics, IOptions<PluginHostOptions> options, ILogger<AuditTrail> logger, TimeProvider time)
{
    /// <summary>The longest detail kept: a refusal's problem detail can quote a whole schema error list.</summary>
    public const int MaxDetailLength = 2000;

    /// <summary>
    /// Keeps one answered action. The action has happened by now, so a store that fails
    /// does not change its answer; the loss is logged as an error and counted.
    /// </summary>
    public async Task RecordAsync(string actor, string remote, string action, string pluginId, string tenant, int status, string detail)
    {
        var entry = new AuditEntry(0, time.GetUtcNow(), actor, remote, action, pluginId, tenant, status, Shortened(detail), options.Value.Store.IsShared ? options.Value.Store.ReplicaName : string.Empty);
        var outcome = status < 400 ? "done" : "refused";
        metrics.AdminActions.Add(1, new KeyValuePair<string, object?>("action", action), new KeyValuePair<string, object?>("outcome", outcome));
        Log.Action(logger, actor, action, pluginId, tenant, status, remote);
        try
        {
            // Not the request's token: a caller who leaves after asking does not unmake its action's record.
            await store.AppendAuditAsync(entry, options.Value.AuditEntriesKept, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            metrics.AuditWritesFailed.Add(1);
            Log.NotKept(logger, ex, actor, action, pluginId, status);
        }
    }

    /// <summary>A page of entries, newest first.</summary>
    public Task<IReadOnlyList<AuditEntry>> ReadAsync(AuditQuery query, CancellationToken cancellationToken) =>
        store.GetAuditAsync(query, cancellationToken);

    private static string Shortened(string detail) =>
        detail.Length <= MaxDetailLength ? detail : string.Concat(detail.AsSpan(0, MaxDetailLength - 1), "…");

    private static partial class Log
    {
        [LoggerMessage(EventId = 1060, EventName = "AdminAction", Level = LogLevel.Information, Message = "Admin {Actor}: {Action} plugin '{PluginId}' tenant '{Tenant}' answered {Status} (from {Remote})")]
        public static partial void Action(ILogger logger, string actor, string action, string pluginId, string tenant, int status, string remote);

        [LoggerMessage(EventId = 1061, EventName = "AuditEntryNotKept", Level = LogLevel.Error, Message = "The audit trail could not keep {Actor}'s {Action} of plugin '{PluginId}' (answered {Status}); the action stands, its record is only in this log. Check the state directory's disk and permissions")]
        public static partial void NotKept(ILogger logger, Exception exception, string actor, string action, string pluginId, int status);
    }
}
