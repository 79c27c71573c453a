using GrpcPlugins.Host.Settings;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// Each plugin's calls to the host, a few at a time; the rest wait their turn asynchronously.
/// The store serves everyone in one queue, so a plugin with a storm of calls in flight would
/// otherwise stand in front of every other plugin's (and the admin's) single write.
/// </summary>
internal sealed class CallerTurns : IDisposable
{
    /// <summary>How many calls of one plugin the host works on at once.</summary>
    public const int PerPlugin = 4;

    private readonly KeyedGates _gates = new(PerPlugin);

    public Task<GateTurn> EnterAsync(string pluginId, CancellationToken cancellationToken) => _gates.EnterAsync(pluginId, cancellationToken);

    public void Dispose() => _gates.Dispose();
}
