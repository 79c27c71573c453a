using System.Collections.Concurrent;

namespace GrpcPlugins.Host.Calls;

/// <summary>Which of a plugin's calls a run of failures counts: its hook calls or its route calls, apart.</summary>
internal enum CallSide
{
    /// <summary>InvokeHook.</summary>
    Hook,

    /// <summary>HandleHttp and HandleHttpBuffered.</summary>
    Route,
}

/// <summary>
/// Calls that failed in a row, hooks and routes apart, for the plugins someone watches (an upgrade
/// under <c>PluginHost:RollbackOnCallFailuresWithin</c>): a failed call (the plugin errored, died
/// or missed its deadline) or a route answered 5xx adds one; any other answer of the same side
/// ends its run. Reaching the watch's count raises <see cref="Failing"/> once per run. Plugins no
/// one watches cost a call one read of a counter.
/// </summary>
internal sealed class CallFailureRuns
{
    private readonly ConcurrentDictionary<string, Run> _watched = new(StringComparer.Ordinal);
    private int _watchCount;

    /// <summary>A watched plugin's hook or route calls failed <c>count</c> times in a row: the plugin's id and what failed.</summary>
    public event Action<string, string>? Failing;

    /// <summary>Counts <paramref name="pluginId"/>'s failed calls in a row until disposed; <paramref name="inARow"/> of one side raises <see cref="Failing"/>.</summary>
    public IDisposable Watch(string pluginId, int inARow)
    {
        var run = new Run(inARow);
        _watched[pluginId] = run;
        Interlocked.Increment(ref _watchCount);
        return new Unwatch(this, pluginId, run);
    }

    /// <summary>The plugin answered the call; a route's answer with <paramref name="status"/>.</summary>
    public void Answered(string pluginId, CallSide side, int status = 200)
    {
        if (Volatile.Read(ref _watchCount) == 0 || !_watched.TryGetValue(pluginId, out var run))
        {
            return;
        }

        if (status < 500)
        {
            Volatile.Write(ref run.InARow[(int)side], 0);
            return;
        }

        Add(pluginId, run, side, $"it answered {status}");
    }

    /// <summary>The call failed: <paramref name="failure"/>. Calls the host never made (busy, unavailable, paused) count for nothing.</summary>
    public void Failed(CallFailure failure, CallSide side)
    {
        if (Volatile.Read(ref _watchCount) == 0 || !_watched.TryGetValue(failure.PluginId, out var run)
            || failure.Kind is not (CallFailureKind.Errored or CallFailureKind.Crashed or CallFailureKind.TimedOut))
        {
            return;
        }

        Add(failure.PluginId, run, side, $"{failure.Kind}: {failure.Detail}");
    }

    private void Add(string pluginId, Run run, CallSide side, string what)
    {
        if (Interlocked.Increment(ref run.InARow[(int)side]) == run.Limit)
        {
            Failing?.Invoke(pluginId, $"{run.Limit} {side.ToString().ToLowerInvariant()} calls in a row failed, the last as {what}");
        }
    }

    private sealed class Run(int limit)
    {
        public readonly int Limit = limit;
        public readonly int[] InARow = new int[2];
    }

    private sealed class Unwatch(CallFailureRuns runs, string pluginId, Run run) : IDisposable
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
