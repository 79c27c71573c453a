namespace GrpcPlugins.Supervisor.Workers;

/// <summary>Where a worker's output lines go after the handshake.</summary>
/// <param name="OnStdout">Unexpected stdout lines after the handshake (logged, not fatal).</param>
/// <param name="OnStderr">Each stderr line, the plugin's log.</param>
internal sealed record WorkerOutput(Action<string> OnStdout, Action<string> OnStderr);
