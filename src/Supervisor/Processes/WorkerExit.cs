namespace GrpcPlugins.Supervisor.Processes;

/// <summary>How a worker process ended.</summary>
/// <param name="ExitCode">The process exit code; 128 + n when killed by signal n.</param>
/// <param name="At">When the host saw it exit.</param>
internal sealed record WorkerExit(int ExitCode, DateTimeOffset At)
{
    /// <summary>The signal that ended the process, if one did.</summary>
    public int? Signal => ExitCode > 128 && ExitCode < 160 ? ExitCode - 128 : null;

    /// <summary>True for exit code 0.</summary>
    public bool IsClean => ExitCode == 0;

    /// <inheritdoc />
    public override string ToString() => Signal switch
    {
        9 => $"killed by SIGKILL (exit code {ExitCode})",
        15 => $"terminated by SIGTERM (exit code {ExitCode})",
        6 => $"aborted, SIGABRT (exit code {ExitCode})",
        11 => $"segmentation fault, SIGSEGV (exit code {ExitCode})",
        int s => $"killed by signal {s} (exit code {ExitCode})",
        null => $"exit code {ExitCode}",
    };
}
