using GrpcPlugins.Supervisor.Workers;

namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>
/// One call's hold on a Ready worker. <see cref="Worker"/> is null when none was Ready, or
/// when the plugin already had its limit of calls in flight (<see cref="Busy"/>).
/// </summary>
internal readonly struct CallLease(PluginSupervisor? supervisor, Worker? worker, bool busy = false) : IDisposable
{
    public Worker? Worker { get; } = worker;

    /// <summary>Refused: the plugin's worker is Ready but has its limit of calls in flight.</summary>
    public bool Busy { get; } = busy;

    public void Dispose() => supervisor?.Release();
}
