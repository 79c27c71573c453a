namespace GrpcPlugins.Host.Settings;

/// <summary>How the running plugin took settings committed without being offered to it (another replica's, or during its start).</summary>
internal enum ReplicaPushOutcome
{
    /// <summary>It accepted them.</summary>
    Configured,

    /// <summary>No worker of it is Ready here; it gets them at its next start.</summary>
    NotRunning,

    /// <summary>The scope's settings were deleted before they could be pushed.</summary>
    Gone,

    /// <summary>It refused them: it runs here with its previous settings until it restarts.</summary>
    Refused,

    /// <summary>It did not answer (the failure is reported as any call's).</summary>
    NotAnswered,
}

/// <summary>The outcome, the revision pushed, and what went wrong.</summary>
internal sealed record ReplicaPush(ReplicaPushOutcome Outcome, long Revision, string? Detail);
