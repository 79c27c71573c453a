using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Supervisor.Workers;

internal sealed partial class WorkerLauncher
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, EventName = "WorkerSpawned", Level = LogLevel.Debug, Message = "Plugin {PluginId}: spawned worker pid {Pid} ({FileName})")]
        public static partial void Spawned(ILogger logger, string pluginId, int pid, string fileName);

        [LoggerMessage(EventId = 4003, EventName = "CgroupNotRemoved", Level = LogLevel.Warning, Message = "Worker cgroup {Path} could not be removed: {Error}")]
        public static partial void CgroupNotRemoved(ILogger logger, string path, string error);

        [LoggerMessage(EventId = 4002, EventName = "WorkerReady", Level = LogLevel.Information, Message = "Plugin {PluginId}: worker pid {Pid} described in {ElapsedMs:0.0} ms (handshake at {HandshakeMs:0.0} ms, healthy at {HealthyMs:0.0} ms)")]
        public static partial void Ready(ILogger logger, string pluginId, int pid, double elapsedMs, double handshakeMs, double healthyMs);

        [LoggerMessage(EventId = 4005, EventName = "WorkerAttached", Level = LogLevel.Information, Message = "Plugin {PluginId}: attached to the worker at {Address}, described in {ElapsedMs:0.0} ms")]
        public static partial void Attached(ILogger logger, string pluginId, Uri address, double elapsedMs);

        [LoggerMessage(EventId = 4007, EventName = "EscapedHelpersKilled", Level = LogLevel.Warning, Message = "Plugin {PluginId}: processes worker pid {Pid} started (pids {Pids}) were still running when it ended, or held its output open after it; they were killed. A plugin's helper processes stop with its worker: end them when it stops, and keep them in its process group (no setsid or daemonizing)")]
        public static partial void HelpersKilled(ILogger logger, string pluginId, int pid, string pids);

        [LoggerMessage(EventId = 4006, EventName = "RuntimeLeftoversNotRemoved", Level = LogLevel.Warning, Message = "Plugin {PluginId}: the runtime files worker pid {Pid} left in its temp directory could not be removed ({Error}); they are the .NET runtime's diagnostic socket and debugger pipes, safe to delete by hand")]
        public static partial void LeftoversNotRemoved(ILogger logger, string pluginId, int pid, string error);

        [LoggerMessage(EventId = 4004, EventName = "EarlyDescribeRefused", Level = LogLevel.Debug, Message = "Plugin {PluginId}: Describe sent beside the first health probe was refused ({Status}: {Detail}); asking again once the worker serves")]
        public static partial void EarlyDescribeRefused(ILogger logger, string pluginId, Grpc.Core.StatusCode status, string detail);
    }
}
