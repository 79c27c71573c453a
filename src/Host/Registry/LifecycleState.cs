namespace GrpcPlugins.Host.Registry;

/// <summary>Where a plugin is in its lifecycle, as the admin sees it.</summary>
internal enum LifecycleState
{
    /// <summary>Its folder was refused at load (bad manifest, duplicate id).</summary>
    Refused,

    /// <summary>Installed, but required settings are missing: activation is refused until they are set.</summary>
    PendingConfig,

    /// <summary>Enabled: its supervisor keeps it running.</summary>
    Active,

    /// <summary>Disabled by an admin; persisted across host restarts.</summary>
    Disabled,
}
