using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// Keeps what the checking host logs at Warning or above, so the report can show what a real
/// host's admin would read about the plugin, instead of printing the host's whole log.
/// </summary>
internal sealed class HostLogCollector : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, EventId Event, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Collector(this);

    public void Dispose()
    {
    }

    private sealed class Collector(HostLogCollector owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Entries.Enqueue((logLevel, eventId, formatter(state, exception) + (exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})")));
            }
        }
    }
}
