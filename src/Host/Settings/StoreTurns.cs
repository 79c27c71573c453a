namespace GrpcPlugins.Host.Settings;

/// <summary>
/// Turns at the SQLite file. Microsoft.Data.Sqlite runs its "async" calls synchronously, and
/// SQLite lets one writer in at a time (the others sleep in its busy handler), so every
/// caller waiting there holds a thread-pool thread: a plugin storming its settings with
/// writes starved the host's own requests of threads (another plugin's hook took 91 ms at
/// p50, 1.2 s at worst). Waiting here is asynchronous; at most one thread writes and a few read.
/// </summary>
internal sealed class StoreTurns : IDisposable
{
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly SemaphoreSlim _readers = new(Math.Max(4, 2 * Environment.ProcessorCount));

    public Task<GateTurn> WriteAsync(CancellationToken cancellationToken) => GateTurn.EnterAsync(_writer, cancellationToken);

    public Task<GateTurn> ReadAsync(CancellationToken cancellationToken) => GateTurn.EnterAsync(_readers, cancellationToken);

    public void Dispose()
    {
        _writer.Dispose();
        _readers.Dispose();
    }
}
