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

    /// <summary>It crossed its memory limit before it was ready: the kernel killed it at its cgroup's, or the host at its RSS.</summary>
    MemoryLimit,

    /// <summary>Its process group ran more threads than its limit before it was ready, and was killed.</summary>
    ThreadLimit,

    /// <summary>An attached worker could not be reached, or its TLS was not accepted, within the start timeout.</summary>
    Unreachable,
}

/// <summary>A failed start with its evidence.</summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Message">What went wrong and how to fix it, quoting the evidence.</param>
/// <param name="ExitCode">The exit code, if the process exited.</param>
/// <param name="StderrTail">The last stderr lines.</param>
internal sealed record StartFailure(StartFailureKind Kind, string Message, int? ExitCode, IReadOnlyList<string> StderrTail)
{
    private const int QuotedLines = 5;

    /// <inheritdoc />
    public override string ToString() => StderrTail.Count == 0
        ? Message
        : Message + " Last stderr lines: " + string.Join(" | ", Evidence());

    /// <summary>
    /// The last lines that say something: a runtime's crash report ends in stack frames
    /// (.NET's and Node's "   at …", Python's "  File …" with its source line), which would
    /// push the exception's own line out of a short quote. Frames are skipped unless there is
    /// nothing else.
    /// </summary>
    private IEnumerable<string> Evidence()
    {
        var said = new List<string>();
        var afterPythonFrame = false;
        foreach (var line in StderrTail)
        {
            var trimmed = line.TrimStart();
            var indented = trimmed.Length < line.Length;
            var pythonFrame = indented && trimmed.StartsWith("File \"", StringComparison.Ordinal);
            var frame = pythonFrame
                || (indented && afterPythonFrame)
                || (indented && trimmed.StartsWith("at ", StringComparison.Ordinal))
                || trimmed.StartsWith("--- End of", StringComparison.Ordinal);
            afterPythonFrame = pythonFrame;
            if (!frame)
            {
                said.Add(line);
            }
        }

        return said.Count > 0 ? said.TakeLast(QuotedLines) : StderrTail.TakeLast(QuotedLines);
    }
}

/// <summary>Thrown when a worker fails to start; carries the <see cref="StartFailure"/>.</summary>
internal sealed class WorkerStartException(StartFailure failure) : Exception(failure.ToString())
{
    public StartFailure Failure { get; } = failure;
}
