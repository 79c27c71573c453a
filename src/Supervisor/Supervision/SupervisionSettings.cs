using GrpcPlugins.Supervisor.Policies;

namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>How one plugin is watched.</summary>
/// <param name="Restart">When and how fast it is restarted.</param>
/// <param name="HealthInterval">Time between health probes of a Ready worker.</param>
/// <param name="HealthTimeout">How long one probe may take.</param>
/// <param name="HealthFailureThreshold">Consecutive failed probes after which the worker is restarted as unresponsive.</param>
/// <param name="MemoryCheckInterval">Time between readings of the worker's process group (its RSS and threads).</param>
/// <param name="DataCheckInterval">Time between measurements of the plugin's data directory.</param>
internal sealed record SupervisionSettings(
    RestartPolicy Restart,
    TimeSpan HealthInterval,
    TimeSpan HealthTimeout,
    int HealthFailureThreshold,
    TimeSpan MemoryCheckInterval,
    TimeSpan DataCheckInterval);
