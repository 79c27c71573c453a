namespace GrpcPlugins.Host.Admin;

/// <summary>Where the host keeps its state, and, with replicas, whether this one hears the others.</summary>
/// <param name="Kind">"sqlite" (one host) or "postgresql" (shared by host replicas).</param>
/// <param name="Replica">This replica's id, as its notices name it; null on SQLite.</param>
/// <param name="ReplicaName">The name the other replicas' events give it (<c>PluginHost:Store:ReplicaName</c>); null on SQLite.</param>
/// <param name="Listening">Whether the other replicas' changes reach this one now; null on SQLite.</param>
/// <param name="LostSince">Since when they do not; null while they do.</param>
/// <param name="LinkLosses">How often the link was lost since the host started.</param>
/// <param name="Problem">Why the link is down, while it is.</param>
/// <param name="NotFollowed">Installs and uninstalls made on other replicas that this one could not follow (it tries again by itself); empty when in step, and on SQLite.</param>
internal sealed record StoreView(string Kind, Guid? Replica, string? ReplicaName, bool? Listening, DateTimeOffset? LostSince, int LinkLosses, string? Problem, IReadOnlyList<Replicas.UnfollowedInstall> NotFollowed);
