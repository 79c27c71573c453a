namespace GrpcPlugins.Host.Settings;

/// <summary>What became of an admin's deletion of one tenant's settings.</summary>
/// <param name="Found">False when the tenant had no settings; nothing was deleted.</param>
/// <param name="Plugin">Whether the running plugin was told to forget them.</param>
/// <param name="Detail">Why the plugin did not take the removal, when it did not.</param>
internal sealed record TenantDeletion(bool Found, TenantRemovalPush Plugin, string? Detail)
{
    public static readonly TenantDeletion NotFound = new(false, TenantRemovalPush.NotRunning, null);
}

/// <summary>The running plugin's side of a tenant deletion (ConfigureRequest.removed).</summary>
internal enum TenantRemovalPush
{
    /// <summary>The plugin accepted the removal and forgot the tenant's settings.</summary>
    Forgotten,

    /// <summary>No worker was Ready; its next start offers only what is stored.</summary>
    NotRunning,

    /// <summary>The plugin answered accepted=false: it may still use what it kept.</summary>
    Refused,

    /// <summary>The plugin did not answer (hung, crashed or failed): it may still use what it kept.</summary>
    NotAnswered,
}
