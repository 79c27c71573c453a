using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Supervisor.Supervision;

internal sealed partial class PluginSupervisor
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, EventName = "WorkerStateChanged", Level = LogLevel.Debug, Message = "Plugin {PluginId} pid {Pid}: {State}")]
        public static partial void StateChanged(ILogger logger, string pluginId, int pid, WorkerState state);

        [LoggerMessage(EventId = 4202, EventName = "WorkerEnded", Level = LogLevel.Warning, Message = "Plugin {PluginId} pid {Pid}: {Kind}: {Reason}")]
        public static partial void WorkerEnded(ILogger logger, string pluginId, int pid, EndKind kind, string reason);

        [LoggerMessage(EventId = 4203, EventName = "WorkerBackingOff", Level = LogLevel.Information, Message = "Plugin {PluginId}: restarting in {DelayMs:0} ms ({Restarts} restarts in the window)")]
        public static partial void BackingOff(ILogger logger, string pluginId, double delayMs, int restarts);

        [LoggerMessage(EventId = 4204, EventName = "WorkerCrashLooping", Level = LogLevel.Error, Message = "Plugin {PluginId}: {Reason}")]
        public static partial void CrashLooping(ILogger logger, string pluginId, string reason);

        [LoggerMessage(EventId = 4205, EventName = "WorkerRestartRequested", Level = LogLevel.Information, Message = "Plugin {PluginId}: restart requested")]
        public static partial void RestartRequested(ILogger logger, string pluginId);

        [LoggerMessage(EventId = 4206, EventName = "PluginCallLimitReached", Level = LogLevel.Warning, Message = "Plugin {PluginId}: {Max} calls in flight, its limit; further calls are refused (503) until some end. If it can take more, raise limits.maxConcurrentCalls in its manifest or PluginHost:MaxConcurrentCallsPerPlugin; if its calls take too long, see its log and plugin_route_duration / plugin_hook_duration at /metrics.")]
        public static partial void CallLimitReached(ILogger logger, string pluginId, int max);

        [LoggerMessage(EventId = 4207, EventName = "PluginCallLimitRelieved", Level = LogLevel.Information, Message = "Plugin {PluginId}: back under its limit of {Max} calls in flight; {Refused} calls were refused meanwhile.")]
        public static partial void CallLimitRelieved(ILogger logger, string pluginId, int max, long refused);

        [LoggerMessage(EventId = 4208, EventName = "PluginDataNearLimit", Level = LogLevel.Warning, Message = "Plugin {PluginId}: its data directory {Directory} holds {UsedMiB:0.#} MiB, {Percent:0} % of its limit of {LimitMiB:0.#} MiB; at the limit the plugin is stopped. Free space there (or ask its vendor why it grows), or raise its limit with PluginHost:PluginLimits:{PluginId}:DataMiB.")]
        public static partial void DataNearLimit(ILogger logger, string pluginId, string directory, double usedMiB, double percent, double limitMiB);

        [LoggerMessage(EventId = 4210, EventName = "PluginDataNotMeasured", Level = LogLevel.Warning, Message = "Plugin {PluginId}: its data directory {Directory} could not be measured, so its data limit is not enforced until it can be; give the host's user read access to it")]
        public static partial void DataNotMeasured(ILogger logger, string pluginId, string directory, Exception exception);

        [LoggerMessage(EventId = 4211, EventName = "WorkerKilledAtStop", Level = LogLevel.Warning, Message = "Plugin {PluginId} pid {Pid} did not exit within its shutdown grace of {GraceSeconds:0.#} s after its Shutdown call and its stdin closing; its process group was killed, and whatever it had not written is lost. A plugin exits when asked (docs/protocol.md, section 5); if it needs longer to finish, raise PluginHost:ShutdownGrace.")]
        public static partial void KilledAtStop(ILogger logger, string pluginId, int pid, double graceSeconds);

        [LoggerMessage(EventId = 4209, EventName = "WorkerHalted", Level = LogLevel.Error, Message = "Plugin {PluginId}: halted, not restarted: {Reason}")]
        public static partial void Halted(ILogger logger, string pluginId, string reason);
    }
}
