namespace GrpcPlugins.Host.Audit;

/// <summary>
/// One admin action as the audit trail keeps it: who asked, from where, what, on which plugin
/// and tenant, and how it ended (the HTTP status and, for a refusal, what was wrong).
/// Never a request body: settings may hold secrets.
/// </summary>
/// <param name="Id">Increasing, never reused, so a page of entries can be continued (<c>before</c>).</param>
/// <param name="At">When the action was answered.</param>
/// <param name="Actor">The authenticated name (the admin key's is "admin"), or "(anonymous)".</param>
/// <param name="Remote">The caller's IP address as the host saw it; empty on a Unix socket.</param>
/// <param name="Action">What was asked, such as "settings.put" (admin-api.md lists them).</param>
/// <param name="PluginId">The plugin acted on; empty when none (a sign-in, a bundle not yet read).</param>
/// <param name="Tenant">The tenant acted on; empty for the plugin-wide scope or none.</param>
/// <param name="Status">The answer's HTTP status; 499 when the caller left first.</param>
/// <param name="Detail">What was done or why it was refused.</param>
/// <param name="Replica">The host replica that answered (<c>PluginHost:Store:ReplicaName</c>), so an admin knows whose logs to read; empty for a host alone on its SQLite file.</param>
internal sealed record AuditEntry(
    long Id,
    DateTimeOffset At,
    string Actor,
    string Remote,
    string Action,
    string PluginId,
    string Tenant,
    int Status,
    string Detail,
    string Replica = "");
