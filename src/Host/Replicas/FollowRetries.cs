namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// Installs this replica could not follow, tried again with a doubling wait until one succeeds.
/// The cause is mostly mended here without any change in the store (a trusted key mounted into
/// the pod, a dependency followed since), and no notice would bring the install back; behind a
/// load balancer the admin cannot aim an install at this replica either. A refusal is reported
/// once; the tries after it that fail the same way are the same failure, and a different one (a
/// newer install refused, another cause) is reported again. The refusals themselves are
/// <paramref name="standing"/>'s, which the admin API and <c>/healthz</c> read; this holds the timers.
/// </summary>
internal sealed class FollowRetries(TimeSpan first, TimeProvider time, UnfollowedInstalls standing, Action<string> retry) : IDisposable
{
    private static readonly TimeSpan Longest = TimeSpan.FromMinutes(5);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ITimer> _pending = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>
    /// Notes a refusal (<paramref name="why"/>) and schedules the next try unless one is due; true
    /// when it is not the refusal the plugin's last try met (report it).
    /// </summary>
    public bool Refused(string pluginId, string why)
    {
        lock (_gate)
        {
            var count = standing.Refused(pluginId, why, time.GetUtcNow());
            if (!_disposed && !_pending.ContainsKey(pluginId))
            {
                _pending[pluginId] = time.CreateTimer(Due, pluginId, Wait(count), Timeout.InfiniteTimeSpan);
            }

            return count == 1;
        }
    }

    /// <summary>The plugin runs what the replicas must run (or there is nothing to follow): no more tries.</summary>
    public void Followed(string pluginId)
    {
        lock (_gate)
        {
            standing.Followed(pluginId);
            if (_pending.Remove(pluginId, out var timer))
            {
                timer.Dispose();
            }
        }
    }

    /// <summary>
    /// Tries every refused follow now: this replica has just installed or uninstalled a plugin, and
    /// a dependency a refused bundle lacked may be here now.
    /// </summary>
    public void TryAllNow()
    {
        List<string> due;
        lock (_gate)
        {
            due = [.. _pending.Keys];
            foreach (var timer in _pending.Values)
            {
                timer.Dispose();
            }

            _pending.Clear();
        }

        foreach (var pluginId in due)
        {
            retry(pluginId);
        }
    }

    /// <summary>The wait before try <paramref name="refusals"/> + 1: doubling from the first, at most five minutes.</summary>
    internal TimeSpan Wait(int refusals) =>
        TimeSpan.FromTicks((long)Math.Min(Longest.Ticks, first.Ticks * Math.Pow(2, Math.Clamp(refusals - 1, 0, 20))));

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var timer in _pending.Values)
            {
                timer.Dispose();
            }

            _pending.Clear();
        }
    }

    private void Due(object? state)
    {
        var pluginId = (string)state!;
        lock (_gate)
        {
            if (!_pending.Remove(pluginId, out var timer))
            {
                return;
            }

            timer.Dispose();
        }

        retry(pluginId);
    }
}
