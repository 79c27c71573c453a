using GrpcPlugins.Host.Callback;
using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrpcPlugins.Host.Health;

/// <summary>
/// Whether workers can reach the host: its callback socket's path is there. Unhealthy while it
/// is gone (removed under the running host, and not yet or not able to be made again by
/// <see cref="CallbackSocketWatch"/>), saying why when the watch could not make it.
/// </summary>
internal sealed class CallbackSocketHealthCheck(HostRuntimeDirectory runtime, CallbackSocketWatch watch) : IHealthCheck
{
    public const string Name = "callback-socket";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["path"] = runtime.CallbackSocket };
        if (watch.RestoredAt is { } restored)
        {
            data["restoredAt"] = restored;
        }

        return Task.FromResult(File.Exists(runtime.CallbackSocket)
            ? HealthCheckResult.Healthy(watch.RestoredAt is null ? "workers reach the host here" : "workers reach the host here; it was removed under the host once, and made again", data: data)
            : HealthCheckResult.Unhealthy(
                $"removed under the running host: workers started from now on cannot reach it{(watch.Problem is { } problem ? $", and it cannot be made again: {problem}" : "; it is made again within a health interval")}. Keep PluginHost:RuntimeDirectory out of cleaners' way.",
                data: data));
    }
}
