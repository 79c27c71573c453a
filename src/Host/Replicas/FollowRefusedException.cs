namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// This replica could not install or uninstall what an admin did on another; the message says why
/// and how to mend it, and <see cref="EventName"/> with <see cref="EventDetail"/> is what the plugin's
/// events show.
/// </summary>
internal sealed class FollowRefusedException(string message, string pluginId, string eventName, string eventDetail) : Exception(message)
{
    public string PluginId { get; } = pluginId;

    public string EventName { get; } = eventName;

    public string EventDetail { get; } = eventDetail;
}
