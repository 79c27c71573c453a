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

    public void Dispose() => _stopping.Dispose();
}
