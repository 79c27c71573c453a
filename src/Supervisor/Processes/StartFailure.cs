namespace GrpcPlugins.Supervisor.Processes;

/// <summary>Why a worker failed to start.</summary>
internal enum StartFailureKind
{
    /// <summary>The executable could not be run at all.</summary>
    SpawnFailed,

    /// <summary>The first stdout line was not a valid handshake.</summary>
    InvalidHandshake,

    /// <summary>The process exited before it printed a handshake.</summary>
    ExitedBeforeHandshake,

    /// <summary>No handshake (or no healthy probe) within the start timeout.</summary>
    StartTimeout,

    /// <summary>The handshake was valid, but the worker did not answer health or Describe.</summary>
    Unresponsive,

    /// <summary>The worker answered, but what it said about itself is wrong.</summary>
    Rejected,

    /// <summary>The kernel killed the worker at its cgroup memory limit before it was ready.</summary>
    MemoryLimit,
}

/// <summary>A failed start with its evidence.</summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Message">What went wrong and how to fix it, quoting the evidence.</param>
/// <param name="ExitCode">The exit code, if the process exited.</param>
/// <param name="StderrTail">The last stderr lines.</param>
internal sealed record StartFailure(StartFailureKind Kind, string Message, int? ExitCode, IReadOnlyList<string> StderrTail)
{
    /// <inheritdoc />
    public override string ToString() => StderrTail.Count == 0
        ? Message
        : Message + " Last stderr lines: " + string.Join(" | ", StderrTail.TakeLast(5));
}

/// <summary>Thrown when a worker fails to start; carries the <see cref="StartFailure"/>.</summary>
internal sealed class WorkerStartException(StartFailure failure) : Exception(failure.ToString())
{
    public StartFailure Failure { get; } = failure;
}
