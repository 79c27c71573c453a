using System.Collections.Concurrent;
using GrpcPlugins.Host.Calls;

namespace GrpcPlugins.Host.Routes;

/// <summary>
/// Route calls that failed in a row, for the plugins someone watches (an upgrade under
/// <c>PluginHost:RollbackOnRouteFailuresWithin</c>): a failed call (the plugin errored, died or
/// missed its deadline) or an answer of 5xx adds one; any other answer ends the run. Reaching
/// the watch's count raises <see cref="Failing"/> once per run. Plugins no one watches cost a
/// route call one read of a counter.
/// </summary>
internal sealed class RouteFailureRuns
{
    private readonly ConcurrentDictionary<string, Run> _watched = new(StringComparer.Ordinal);
    private int _watchCount;

    /// <summary>A watched plugin's route calls failed <c>count</c> times in a row: the plugin's id and the last failure.</summary>
    public event Action<string, string>? Failing;

    /// <summary>Counts <paramref name="pluginId"/>'s failed route calls in a row until disposed; <paramref name="inARow"/> raises <see cref="Failing"/>.</summary>
    public IDisposable Watch(string pluginId, int inARow)
    {
        var run = new Run(inARow);
        _watched[pluginId] = run;
        Interlocked.Increment(ref _watchCount);
        return new Unwatch(this, pluginId, run);
    }

    /// <summary>The plugin answered the route call with <paramref name="status"/>.</summary>
    public void Answered(string pluginId, int status)
    {
        if (Volatile.Read(ref _watchCount) == 0 || !_watched.TryGetValue(pluginId, out var run))
        {
            return;
        }

        if (status < 500)
        {
            Volatile.Write(ref run.InARow, 0);
            return;
        }

        Add(pluginId, run, $"it answered {status}");
    }

    /// <summary>The route call failed: <paramref name="failure"/>.</summary>
    public void Failed(CallFailure failure)
    {
        if (Volatile.Read(ref _watchCount) == 0 || !_watched.TryGetValue(failure.PluginId, out var run)
            || failure.Kind is not (CallFailureKind.Errored or CallFailureKind.Crashed or CallFailureKind.TimedOut))
        {
            return;
        }

        Add(failure.PluginId, run, $"{failure.Kind}: {failure.Detail}");
    }

    private void Add(string pluginId, Run run, string what)
    {
        if (Interlocked.Increment(ref run.InARow) == run.Limit)
        {
            Failing?.Invoke(pluginId, $"{run.Limit} route calls in a row failed, the last as {what}");
        }
    }

    private sealed class Run(int limit)
    {
        public readonly int Limit = limit;
        public int InARow;
    }

    private sealed class Unwatch(RouteFailureRuns runs, string pluginId, Run run) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                // Only this watch's run: a later watch of the same plugin stays.
                runs._watched.TryRemove(new KeyValuePair<string, Run>(pluginId, run));
                Interlocked.Decrement(ref runs._watchCount);
            }
        }
    }
}
