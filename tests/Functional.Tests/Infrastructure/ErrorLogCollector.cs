using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// Collects Error and Critical log entries of a test host, so a test fails on an
/// error it did not expect (after grpc-dotnet's VerifyNoErrorsScope); given a lower
/// level, a test's own collector of the warnings it expects.
/// </summary>
internal sealed class ErrorLogCollector(LogLevel minimum = LogLevel.Error) : ILoggerProvider
{
    public ConcurrentQueue<string> Errors { get; } = new();

    private LogLevel Minimum => minimum;

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Collector(ErrorLogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= owner.Minimum)
            {
                owner.Errors.Enqueue($"{category}[{eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}]: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception)}");
            }
        }
    }
}
