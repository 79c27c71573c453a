namespace GrpcPlugins.Supervisor.Workers;

/// <summary>
/// When each step of a worker's start was done, counted from its spawn: where
/// a slow start goes (the process itself, its first call, or Describe).
/// </summary>
/// <param name="Handshake">Its handshake line arrived.</param>
/// <param name="Healthy">Its health probe answered SERVING.</param>
/// <param name="Described">It answered Describe.</param>
internal sealed record WorkerStartTimes(TimeSpan Handshake, TimeSpan Healthy, TimeSpan Described);
