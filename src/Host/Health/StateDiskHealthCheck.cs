using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Health;

/// <summary>
/// The free space of the disk the host's state is on: its store, the audit trail and every
/// plugin's data directory. Data limits keep one plugin from filling it; this tells an admin
/// before the disk fills for any other reason, or because the limits add up to more than
/// the disk. Degraded under <see cref="PluginHostOptions.MinFreeDiskMiB"/>, Unhealthy
/// under a tenth of it, when a settings write may already fail.
/// </summary>
internal sealed class StateDiskHealthCheck(IOptions<PluginHostOptions> options, PluginCatalog catalog) : IHealthCheck
{
    public const string Name = "state-disk";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var directory = Path.GetFullPath(settings.StateDirectory);
        long free;
        try
        {
            free = new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"cannot read the free space of {directory}: {ex.Message}", ex));
        }

        // What the enabled plugins may still write before their limits stop them (a disabled one writes nothing).
        var headroom = catalog.Entries
            .Select(e => e.Supervisor?.Snapshot)
            .Where(s => s is { DataLimitBytes: > 0, State: not WorkerState.Stopped })
            .Sum(s => Math.Max(0, s!.DataLimitBytes - s.DataBytes));
        var data = new Dictionary<string, object> { ["freeBytes"] = free, ["pluginDataHeadroomBytes"] = headroom };
        var minimum = (long)settings.MinFreeDiskMiB * 1024 * 1024;
        var said = $"{Mib(free)} MiB free on the disk of {directory}";
        var result = free < minimum / 10 ? HealthCheckResult.Unhealthy($"{said}, under a tenth of PluginHost:MinFreeDiskMiB ({settings.MinFreeDiskMiB}): settings writes and plugins' data may fail now. Free space there, or move PluginHost:StateDirectory to a larger disk.", data: data)
            : free < minimum ? HealthCheckResult.Degraded($"{said}, under PluginHost:MinFreeDiskMiB ({settings.MinFreeDiskMiB}). Free space there before settings writes and plugins' data fail.", data: data)
            : headroom > free ? HealthCheckResult.Degraded($"{said}, less than the {Mib(headroom)} MiB the enabled plugins' data limits still allow them: lower limits.dataMiB (PluginHost:PluginLimits, PluginHost:DefaultDataLimitMiB) or give the state a larger disk.", data: data)
            : HealthCheckResult.Healthy(said, data);
        return Task.FromResult(result);
    }

    private static long Mib(long bytes) => bytes / (1024 * 1024);
}
