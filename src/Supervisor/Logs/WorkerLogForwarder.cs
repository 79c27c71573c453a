using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Supervisor.Logs;

/// <summary>
/// Re-logs a plugin's stderr, and any stdout after its handshake, under the
/// plugin's own category, one line an entry, with one token-bucket rate limit
/// for both so a flooding plugin cannot drown the host's log (nor hold the
/// host's threads, which wait for a full console queue); dropped lines are
/// counted, by stream, and reported when the flood ends.
/// </summary>
internal sealed partial class WorkerLogForwarder
{
    private readonly ILogger _logger;
    private readonly string _pluginId;
    private readonly TimeProvider _time;
    private readonly double _linesPerSecond;
    private readonly double _burst;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _lastRefill;
    private long _droppedSinceReport;
    private long _droppedTotal;
    private long _stdoutDroppedSinceReport;
    private long _stdoutDroppedTotal;

    public WorkerLogForwarder(ILoggerFactory loggerFactory, string pluginId, TimeProvider time, double linesPerSecond = 200, double burst = 1000)
    {
        _logger = loggerFactory.CreateLogger("Plugin." + pluginId);
        _pluginId = pluginId;
        _time = time;
        _linesPerSecond = linesPerSecond;
        _burst = burst;
        _tokens = burst;
        _lastRefill = time.GetTimestamp();
    }

    /// <summary>Stderr lines dropped by the rate limit since the host started.</summary>
    public long Dropped => Interlocked.Read(ref _droppedTotal);

    /// <summary>Stdout lines (after the handshake) dropped by the rate limit since the host started.</summary>
    public long StdoutDropped => Interlocked.Read(ref _stdoutDroppedTotal);

    /// <summary>Forwards one stderr line from the worker <paramref name="pid"/>.</summary>
    public void OnStderr(int pid, string line)
    {
        if (Take(ref _droppedSinceReport, ref _droppedTotal) is not { } droppedBefore)
        {
            return;
        }

        if (droppedBefore > 0)
        {
            Log.LinesDropped(_logger, _pluginId, pid, droppedBefore);
        }

        Log.StderrLine(_logger, StderrLevel.Of(line), _pluginId, pid, line);
    }

    /// <summary>Logs a stdout line that came after the handshake: harmless, but a sign of a misbehaving plugin.</summary>
    public void OnStdout(int pid, string line)
    {
        if (Take(ref _stdoutDroppedSinceReport, ref _stdoutDroppedTotal) is not { } droppedBefore)
        {
            return;
        }

        if (droppedBefore > 0)
        {
            Log.StdoutLinesDropped(_logger, _pluginId, pid, droppedBefore);
        }

        Log.UnexpectedStdout(_logger, _pluginId, pid, line);
    }

    /// <summary>
    /// A token for one line, and the lines of that stream dropped since the last one that was
    /// logged; null when the bucket is empty, the line then counted as dropped.
    /// </summary>
    private long? Take(ref long droppedSinceReport, ref long droppedTotal)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(_burst, _tokens + _time.GetElapsedTime(_lastRefill, now).TotalSeconds * _linesPerSecond);
            _lastRefill = now;
            if (_tokens < 1)
            {
                droppedSinceReport++;
                Interlocked.Increment(ref droppedTotal);
                return null;
            }

            _tokens--;
            var dropped = droppedSinceReport;
            droppedSinceReport = 0;
            return dropped;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, EventName = "PluginStderr", Message = "[{PluginId} pid {Pid}] {Line}")]
        public static partial void StderrLine(ILogger logger, LogLevel level, string pluginId, int pid, string line);

        [LoggerMessage(EventId = 4102, EventName = "PluginStderrDropped", Level = LogLevel.Warning, Message = "Plugin {PluginId} pid {Pid}: {Count} stderr lines dropped by the rate limit")]
        public static partial void LinesDropped(ILogger logger, string pluginId, int pid, long count);

        [LoggerMessage(EventId = 4104, EventName = "PluginStdoutDropped", Level = LogLevel.Warning, Message = "Plugin {PluginId} pid {Pid}: {Count} stdout lines dropped by the rate limit")]
        public static partial void StdoutLinesDropped(ILogger logger, string pluginId, int pid, long count);

        [LoggerMessage(EventId = 4103, EventName = "PluginUnexpectedStdout", Level = LogLevel.Warning, Message = "Plugin {PluginId} pid {Pid} wrote to stdout after its handshake (write logs to stderr): {Line}")]
        public static partial void UnexpectedStdout(ILogger logger, string pluginId, int pid, string line);
    }
}
