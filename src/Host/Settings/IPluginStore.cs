namespace GrpcPlugins.Host.Settings;

/// <summary>
/// The host's durable state: plugin settings per tenant and whether each plugin
/// is enabled. One small interface, so a multi-host deployment can put it on
/// PostgreSQL; the default is an embedded SQLite file.
/// </summary>
internal interface IPluginStore
{
    /// <summary>The stored settings, or null when none are stored.</summary>
    Task<StoredSettings?> GetSettingsAsync(string pluginId, string tenantId, CancellationToken cancellationToken);

    /// <summary>Every tenant's settings of a plugin ("" is the plugin-wide scope), plugin-wide first.</summary>
    Task<IReadOnlyList<(string TenantId, StoredSettings Settings)>> GetAllSettingsAsync(string pluginId, CancellationToken cancellationToken);

    /// <summary>Every scope a plugin has settings in, without the settings: tenant, revision, size, last write; plugin-wide first.</summary>
    Task<IReadOnlyList<SettingsScope>> ListSettingsScopesAsync(string pluginId, CancellationToken cancellationToken);

    /// <summary>Deletes one scope's settings durably; false when there were none.</summary>
    Task<bool> DeleteSettingsAsync(string pluginId, string tenantId, CancellationToken cancellationToken);

    /// <summary>
    /// What a write to one scope needs to know, in one read: that scope's settings (null when none)
    /// and what the plugin's settings take in every other scope.
    /// </summary>
    Task<SettingsWriteView> GetSettingsForWriteAsync(string pluginId, string tenantId, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces settings durably; returns the new revision once the write is on disk.
    /// With <paramref name="expectedRevision"/> (0: none stored yet), writes only if the
    /// stored revision is still that one, in the same statement, and returns null if not:
    /// hosts sharing one store must not lose each other's writes.
    /// </summary>
    Task<long?> PutSettingsAsync(string pluginId, string tenantId, string settingsJson, long? expectedRevision, CancellationToken cancellationToken);

    /// <summary>
    /// The scope's latest revisions as written (the current one included, newest first, at most
    /// <see cref="SqlitePluginStore.RevisionsKept"/>), for an admin to see and restore one.
    /// </summary>
    Task<IReadOnlyList<StoredSettings>> GetSettingsRevisionsAsync(string pluginId, string tenantId, CancellationToken cancellationToken);

    /// <summary>
    /// Rewrites in place every stored settings row of a plugin (each scope's current settings and
    /// its kept revisions) that <paramref name="seal"/> changes, each only if it still holds what
    /// was read, and returns how many it rewrote. For values that became secret after they were
    /// written: the values and revision numbers stay, only kept sealed.
    /// </summary>
    Task<int> SealStoredAsync(string pluginId, Func<string, string> seal, CancellationToken cancellationToken);

    /// <summary>Whether an admin enabled (true) or disabled (false) the plugin; null when never said.</summary>
    Task<bool?> GetEnabledAsync(string pluginId, CancellationToken cancellationToken);

    /// <summary>Records an admin's enable or disable durably.</summary>
    Task SetEnabledAsync(string pluginId, bool enabled, CancellationToken cancellationToken);

    /// <summary>Every plugin's tenant scope as an admin set it (JSON), by plugin id; a plugin never scoped is absent.</summary>
    Task<IReadOnlyDictionary<string, string>> GetTenantScopesAsync(CancellationToken cancellationToken);

    /// <summary>One plugin's tenant scope as an admin set it (JSON); null when never scoped.</summary>
    Task<string?> GetTenantScopeAsync(string pluginId, CancellationToken cancellationToken);

    /// <summary>Records a plugin's tenant scope durably; null forgets it (every tenant).</summary>
    Task SetTenantScopeAsync(string pluginId, string? scopeJson, CancellationToken cancellationToken);

    /// <summary>Records an install or upgrade.</summary>
    Task RecordInstallAsync(InstallRecord record, CancellationToken cancellationToken);

    /// <summary>A plugin's install records, oldest first.</summary>
    Task<IReadOnlyList<InstallRecord>> GetInstallsAsync(string pluginId, CancellationToken cancellationToken);

    /// <summary>Keeps one admin action (its id is the store's), then drops all but the newest <paramref name="kept"/>.</summary>
    Task AppendAuditAsync(Audit.AuditEntry entry, int kept, CancellationToken cancellationToken);

    /// <summary>A page of the audit trail, newest first.</summary>
    Task<IReadOnlyList<Audit.AuditEntry>> GetAuditAsync(Audit.AuditQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Every settings schema a plugin with none in its manifest published in Describe, by plugin and
    /// version, so a plugin not started since the host started (disabled, refused, waiting) still has
    /// its secrets masked and sealed and its writes validated.
    /// </summary>
    Task<IReadOnlyList<DescribedSchema>> GetDescribedSchemasAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Keeps what one version of a plugin published in Describe ("" for no schema), replacing that
    /// version's, and drops all but the plugin's <see cref="DescribedSchema.VersionsKept"/> newest.
    /// </summary>
    Task KeepDescribedSchemaAsync(DescribedSchema schema, CancellationToken cancellationToken);

    /// <summary>Deletes every tenant's settings, the enabled state, the tenant scope and the described schemas of a plugin (uninstall without keeping settings).</summary>
    Task DeletePluginAsync(string pluginId, CancellationToken cancellationToken);
}

/// <summary>Who installed what, from which bundle, signed by whom, when.</summary>
internal sealed record InstallRecord(string PluginId, string Version, string Address, string Signer, DateTimeOffset At, string By);

/// <summary>The settings schema one version of a plugin published in Describe ("" for none), and when.</summary>
internal sealed record DescribedSchema(string PluginId, string Version, string SchemaJson, DateTimeOffset At)
{
    /// <summary>
    /// How many versions of one plugin keep theirs: the serving one and an upgrade that failed to
    /// start beside it each keep their own, and a plugin upgraded many times keeps no more than these.
    /// </summary>
    public const int VersionsKept = 4;
}

/// <summary>Settings as stored.</summary>
internal sealed record StoredSettings(string Json, long Revision, DateTimeOffset UpdatedAt);

/// <summary>One scope of a plugin's settings, as listed for an admin: "" is the plugin-wide scope.</summary>
internal sealed record SettingsScope(string TenantId, long Revision, long Bytes, DateTimeOffset UpdatedAt);

/// <summary>A scope's settings before a write to it, and what the plugin's other scopes take.</summary>
internal sealed record SettingsWriteView(StoredSettings? Current, SettingsUsage Others);
