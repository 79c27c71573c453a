namespace GrpcPlugins.Sdk.Server;

/// <summary>When the worker should stop: the host asked (Shutdown), sent SIGTERM, or closed stdin.</summary>
internal sealed class WorkerLifetime : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    public CancellationToken Stopping => _stopping.Token;

    public void Stop()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Stopped and gone already: a late signal has nothing left to stop.
        }
    }

    /// <summary>Accepted WebSockets that have not yet sent their close.</summary>
    private int _unclosedSockets;

    /// <summary>Counts an accepted WebSocket until <see cref="SocketCloseSent"/>: the server's stop waits for its close frame to leave.</summary>
    public void SocketOpened() => Interlocked.Increment(ref _unclosedSockets);

    public void SocketCloseSent() => Interlocked.Decrement(ref _unclosedSockets);

    /// <summary>
    /// Waits, at most <paramref name="limit"/>, for every WebSocket to send its close after the
    /// stop: the server's stop ends the connection to the host, and a socket's close frame
    /// still unsent would leave its client told only that the plugin went away.
    /// </summary>
    public async Task WhenSocketsClosedAsync(TimeSpan limit, TimeProvider time)
    {
        var start = time.GetTimestamp();
        while (Volatile.Read(ref _unclosedSockets) > 0 && time.GetElapsedTime(start) < limit)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), time).ConfigureAwait(false);
        }
    }

    public void Dispose() => _stopping.Dispose();
}
