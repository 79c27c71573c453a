namespace GrpcPlugins.Supervisor.Processes;

/// <summary>A previous run's worker the ledger found still running and killed.</summary>
/// <param name="Pid">Its pid.</param>
/// <param name="PluginId">Its plugin.</param>
/// <param name="FilesNotRemoved">The runtime files its kill left that could not be removed, or null.</param>
internal sealed record ReapedWorker(int Pid, string PluginId, string? FilesNotRemoved);
