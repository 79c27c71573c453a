namespace GrpcPlugins.Host.Audit;

/// <summary>A page of the audit trail, newest first.</summary>
/// <param name="PluginId">Only this plugin's entries; null for all.</param>
/// <param name="Action">Only this action's entries; null for all.</param>
/// <param name="Before">Only entries older than this id (the previous page's <c>next</c>); null from the newest.</param>
/// <param name="Limit">At most this many entries.</param>
/// <param name="Actor">Only the entries of this key holder (or <c>host</c>, <c>(anonymous)</c>); null for all.</param>
internal sealed record AuditQuery(string? PluginId, string? Action, long? Before, int Limit, string? Actor = null);
