using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// Keeps the callback socket's path there while the host runs. Something that removes the
/// runtime directory under a running host (an admin's <c>rm -rf /tmp/*</c>, a cleaner, the end
/// of the login session that held $XDG_RUNTIME_DIR) left the listener on a path nobody could
/// reach: running workers kept their connections, and every worker started later failed each
/// call to the host, while /healthz said Healthy. Every health interval this looks for the
/// socket and, when it is gone, makes the directory again and listens on it again.
/// </summary>
internal sealed partial class CallbackSocketWatch(HostRuntimeDirectory runtime, CallbackServer server, IOptions<PluginHostOptions> options, TimeProvider time, ILogger<CallbackSocketWatch> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _watching;
    private int _disposed;

    // Written by the watch, read by the health check: one reference, swapped whole.
    private volatile WatchStatus _status = new(null, null);

    /// <summary>Why the socket could not be made again the last time it was found gone; null while it is there.</summary>
    public string? Problem => _status.Problem;

    /// <summary>When the socket was last made again; null if it never had to be.</summary>
    public DateTimeOffset? RestoredAt => _status.RestoredAt;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _watching = WatchAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.HealthInterval, time, cancellationToken).ConfigureAwait(false);
                if (!File.Exists(runtime.CallbackSocket))
                {
                    await RestoreAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task RestoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            runtime.Restore();
            await server.ListenAgainAsync(cancellationToken).ConfigureAwait(false);
            _status = new WatchStatus(null, time.GetUtcNow());
            Log.Restored(logger, runtime.CallbackSocket);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Logged when the problem changes, not every interval it stays.
            if (Problem != ex.Message)
            {
                Log.NotRestored(logger, runtime.CallbackSocket, ex);
            }

            _status = _status with { Problem = ex.Message };
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_watching is not null)
        {
            await _watching.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Ends the watch when the host's services are disposed without its stop having run (a start
    /// that failed later on): otherwise it went on, and made again the directory the host had just removed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        // Registered as itself and as a hosted service, it is disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_watching is not null)
        {
            await _watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }

    private sealed record WatchStatus(string? Problem, DateTimeOffset? RestoredAt);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, EventName = "CallbackSocketRestored", Level = LogLevel.Warning, Message = "The host's callback socket {Socket} was removed under the running host (with its runtime directory?); it is made again, and workers reach the host there. Keep PluginHost:RuntimeDirectory out of cleaners' way")]
        public static partial void Restored(ILogger logger, string socket);

        [LoggerMessage(EventId = 2011, EventName = "CallbackSocketNotRestored", Level = LogLevel.Error, Message = "The host's callback socket {Socket} was removed under the running host and cannot be made again: workers started from now on cannot reach the host (their settings reads and body pulls fail). Make its directory writable again, or restart the host with a PluginHost:RuntimeDirectory nothing removes")]
        public static partial void NotRestored(ILogger logger, string socket, Exception exception);
    }
}
