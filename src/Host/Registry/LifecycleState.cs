namespace GrpcPlugins.Host.Registry;

/// <summary>Where a plugin is in its lifecycle, as the admin sees it.</summary>
internal enum LifecycleState
{
    /// <summary>Its folder was refused at load (bad manifest, duplicate id).</summary>
    Refused,

    /// <summary>Installed, but its stored settings miss a required value or do not match its schema: activation waits until they are set.</summary>
    PendingConfig,

    /// <summary>Enabled: its supervisor keeps it running.</summary>
    Active,

    /// <summary>Disabled by an admin; persisted across host restarts.</summary>
    Disabled,
}
