namespace GrpcPlugins.Host.Bundles;

/// <summary>A bundle was refused because a disk lacks room for it (507); the message says which disk and what to do.</summary>
internal sealed class NotEnoughRoomException(string message, Exception? inner = null) : Exception(message, inner);
