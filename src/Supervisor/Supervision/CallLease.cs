using GrpcPlugins.Supervisor.Workers;

namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>One call's hold on a Ready worker; <see cref="Worker"/> is null when none was Ready.</summary>
internal readonly struct CallLease(PluginSupervisor? supervisor, Worker? worker) : IDisposable
{
    public Worker? Worker { get; } = worker;

    public void Dispose() => supervisor?.Release();
}
