namespace GrpcPlugins.Sdk;

/// <summary>Whether a hook sees traffic on its way in or on its way out.</summary>
public enum HookDirection
{
    /// <summary>The host did not say.</summary>
    Unspecified,

    /// <summary>A request on its way in.</summary>
    Inbound,

    /// <summary>A response on its way out.</summary>
    Outbound,
}
