namespace GrpcPlugins.Supervisor.Workers;

/// <summary>Where a worker's output lines go after the handshake.</summary>
/// <param name="OnStdout">Unexpected stdout lines after the handshake (logged, not fatal), with the worker's pid.</param>
/// <param name="OnStderr">Each stderr line, the plugin's log, with the worker's pid (known from the spawn on, before the handshake).</param>
internal sealed record WorkerOutput(Action<int, string> OnStdout, Action<int, string> OnStderr);
