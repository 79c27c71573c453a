namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// Who this replica is to the others: a new id every start (a replica never mistakes a notice
/// of its previous life for its own) and the name an admin knows it by (the pod's).
/// </summary>
internal sealed record ReplicaIdentity(Guid Id, string Name)
{
    public static ReplicaIdentity New(string name) => new(Guid.NewGuid(), name);
}
