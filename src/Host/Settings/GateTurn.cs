namespace GrpcPlugins.Host.Settings;

/// <summary>
/// A turn through a <see cref="SemaphoreSlim"/>, waited for asynchronously and ended by disposal;
/// <c>default</c> is no turn (a caller that needs none), whose disposal does nothing.
/// </summary>
internal readonly struct GateTurn : IDisposable
{
    private readonly SemaphoreSlim? _gate;

    private GateTurn(SemaphoreSlim gate) => _gate = gate;

    public static async Task<GateTurn> EnterAsync(SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new GateTurn(gate);
    }

    public void Dispose() => _gate?.Release();
}
