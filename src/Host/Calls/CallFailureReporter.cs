using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Calls;

/// <summary>
/// The one place a failed plugin call is reported: logged once with its event
/// id, counted, and kept for the admin view. Callers map it to a status themselves.
/// </summary>
internal sealed partial class CallFailureReporter(CallStats stats, ILogger<CallFailureReporter> logger, TimeProvider time)
{
    public void Report(CallFailure failure, string what, Exception? exception = null)
    {
        stats.Record(failure, time.GetUtcNow());
        if (failure.Kind == CallFailureKind.Unavailable)
        {
            Log.Unavailable(logger, failure.PluginId, what, failure.Detail);
        }
        else if (failure.Kind is CallFailureKind.CircuitOpen or CallFailureKind.Busy)
        {
            // The pause itself is logged once, as a warning, by the breaker (a call limit's by the supervisor); each call
            // not made is counted, not shouted.
            Log.Skipped(logger, failure.PluginId, what, failure.Detail);
        }
        else
        {
            Log.Failed(logger, failure.PluginId, what, failure.Kind, failure.Detail, exception);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, EventName = "PluginCallFailed", Level = LogLevel.Warning, Message = "Plugin {PluginId} {What}: {Kind}: {Detail}")]
        public static partial void Failed(ILogger logger, string pluginId, string what, CallFailureKind kind, string detail, Exception? exception);

        [LoggerMessage(EventId = 2002, EventName = "PluginUnavailable", Level = LogLevel.Information, Message = "Plugin {PluginId} {What}: unavailable: {Detail}")]
        public static partial void Unavailable(ILogger logger, string pluginId, string what, string detail);

        [LoggerMessage(EventId = 2006, EventName = "PluginCallSkipped", Level = LogLevel.Debug, Message = "Plugin {PluginId} {What}: skipped: {Detail}")]
        public static partial void Skipped(ILogger logger, string pluginId, string what, string detail);
    }
}
