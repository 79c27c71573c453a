using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Host.Calls;

/// <summary>Why a call got no worker from its plugin's supervisor: none was Ready, or the plugin was at its call limit.</summary>
internal static class LeaseFailure
{
    public static CallFailure Of(PluginSupervisor supervisor, CallLease lease) => lease.Busy
        ? new CallFailure(
            supervisor.PluginId,
            CallFailureKind.Busy,
            $"not called: {supervisor.MaxConcurrentCalls} calls already in flight, its limit (limits.maxConcurrentCalls in its manifest, or PluginHost:MaxConcurrentCallsPerPlugin)")
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        }
        : new CallFailure(supervisor.PluginId, CallFailureKind.Unavailable, $"plugin is {supervisor.State}");
}
