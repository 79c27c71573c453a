namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// One queue per plugin for the other replicas' changes: each plugin's changes are applied in
/// the order they were committed, and a plugin slow to take its settings (a Configure that
/// runs to its deadline) delays only its own later changes, not every other plugin's.
/// </summary>
internal sealed class PluginChangeQueues
{
    private readonly Dictionary<string, Task> _tails = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Runs <paramref name="work"/> after the plugin's earlier work. It must not throw: it reports its own failures.</summary>
    public void Enqueue(string pluginId, Func<Task> work)
    {
        lock (_gate)
        {
            var next = AfterAsync(_tails.GetValueOrDefault(pluginId, Task.CompletedTask), work);
            _tails[pluginId] = next;
            _ = next.ContinueWith(done => Forget(pluginId, done), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Completes once everything enqueued so far has run.</summary>
    public Task DrainAsync()
    {
        lock (_gate)
        {
            return Task.WhenAll([.. _tails.Values]);
        }
    }

    private static async Task AfterAsync(Task previous, Func<Task> work)
    {
        await previous.ConfigureAwait(false);
        await work().ConfigureAwait(false);
    }

    // A plugin with nothing queued holds no entry: ids of uninstalled plugins do not pile up.
    private void Forget(string pluginId, Task done)
    {
        lock (_gate)
        {
            if (_tails.TryGetValue(pluginId, out var tail) && tail == done)
            {
                _tails.Remove(pluginId);
            }
        }
    }
}
