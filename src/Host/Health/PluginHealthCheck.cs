using GrpcPlugins.Host.Admin;
using GrpcPlugins.Host.Hooks.Breaker;
using GrpcPlugins.Host.Registry;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrpcPlugins.Host.Health;

/// <summary>
/// One plugin's health: Ready is Healthy; starting, restarting or unhealthy is
/// Degraded, as is Ready with its hook calls paused or at its limit of calls in flight; crash-looping or halted is Unhealthy; a disabled plugin does not count
/// against the host; a refused one is Degraded, with its reason.
/// </summary>
internal sealed class PluginHealthCheck(PluginCatalog catalog, HookBreakers breakers, string pluginId) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (catalog.Find(pluginId) is not { } entry)
        {
            return Task.FromResult(HealthCheckResult.Healthy("no longer installed"));
        }

        var snapshot = entry.Supervisor?.Snapshot;
        var data = new Dictionary<string, object> { ["state"] = entry.IsRefused ? "Refused" : snapshot!.State.ToString() };
        var breaker = breakers.View(pluginId);
        var result = PluginViewFactory.HealthOf(entry, snapshot, breaker) switch
        {
            "Healthy" => HealthCheckResult.Healthy("ready", data),
            "Degraded" when breaker.State != HookBreakerState.Closed => HealthCheckResult.Degraded($"ready, but its hook calls are paused after repeated timeouts (until {breaker.OpenUntil:O}, then a trial call)", data: data),
            "Degraded" when entry.Supervisor!.AtCallLimit => HealthCheckResult.Degraded($"ready, but at its limit of {entry.Supervisor.MaxConcurrentCalls} calls in flight: further calls are refused until a quarter of them end", data: data),
            "Disabled" => HealthCheckResult.Healthy("disabled", data),
            "Unhealthy" when entry.IsRefused => HealthCheckResult.Degraded(string.Join(" ", entry.Refusal), data: data),
            "Unhealthy" => HealthCheckResult.Unhealthy(snapshot?.LastError ?? "crash-looping", data: data),
            _ => HealthCheckResult.Degraded(snapshot?.LastError ?? snapshot!.State.ToString(), data: data),
        };
        return Task.FromResult(result);
    }
}
