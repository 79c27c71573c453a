using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Processes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// Reaps a previous run's leftover workers, starts the plugins with the host,
/// and stops them all, in parallel, when it stops.
/// </summary>
internal sealed partial class PluginHostedService(PluginLifecycle lifecycle, HostRuntimeDirectory runtime, WorkerLedger ledger, ILogger<PluginHostedService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(ledger.Path))!);
        foreach (var (pid, pluginId) in ledger.ReapLeftovers())
        {
            Log.ReapedLeftover(logger, pluginId, pid);
        }

        return lifecycle.LoadAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await lifecycle.StopAllAsync().ConfigureAwait(false);
        runtime.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4301, EventName = "LeftoverWorkerReaped", Level = LogLevel.Warning, Message = "Plugin {PluginId}: killed worker pid {Pid} left over from a previous run of the host")]
        public static partial void ReapedLeftover(ILogger logger, string pluginId, int pid);
    }
}
