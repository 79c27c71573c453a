namespace GrpcPlugins.Supervisor.Policies;

/// <summary>
/// The restart arithmetic of one plugin: exponential backoff with jitter,
/// reset after a stable period, and the crash-loop breaker. Pure logic over a
/// <see cref="TimeProvider"/>, so tests drive it with a fake clock. Its durations are
/// the monotonic clock's (timestamps), never the wall clock's: an NTP step back of an hour
/// kept an hour of old restarts in the breaker's window, and the backoff from resetting.
/// </summary>
internal sealed class RestartTracker(RestartPolicy policy, TimeProvider time, Func<double>? random = null)
{
    private readonly Queue<long> _restarts = new();
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;
    private int _attempt;

    /// <summary>Restarts inside the current window.</summary>
    public int RestartsInWindow => _restarts.Count;

    /// <summary>Decides what follows an end. <paramref name="abnormal"/> is false only for a clean exit the plugin chose.</summary>
    /// <param name="abnormal">Whether the end was abnormal (crash, signal, limit, failed health).</param>
    /// <param name="readyAt">When the ended worker became Ready (<see cref="TimeProvider.GetTimestamp"/>), or null if it never did.</param>
    public RestartDecision OnEnded(bool abnormal, long? readyAt)
    {
        var now = time.GetTimestamp();
        if (readyAt is { } since && time.GetElapsedTime(since, now) >= policy.StablePeriod)
        {
            _attempt = 0;
        }

        var wanted = policy.Mode switch
        {
            RestartMode.Permanent => true,
            RestartMode.Transient => abnormal,
            _ => false,
        };
        if (!wanted)
        {
            return new RestartDecision(false, TimeSpan.Zero, false, _restarts.Count);
        }

        while (_restarts.TryPeek(out var oldest) && time.GetElapsedTime(oldest, now) > policy.Window)
        {
            _restarts.Dequeue();
        }

        _restarts.Enqueue(now);
        if (_restarts.Count > policy.MaxRestarts)
        {
            return new RestartDecision(false, TimeSpan.Zero, true, _restarts.Count);
        }

        var delay = NextDelay();
        _attempt++;
        return new RestartDecision(true, delay, false, _restarts.Count);
    }

    /// <summary>Forgets history, as when an admin re-enables a crash-looping plugin.</summary>
    public void Reset()
    {
        _restarts.Clear();
        _attempt = 0;
    }

    private TimeSpan NextDelay()
    {
        var baseMs = policy.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30));
        baseMs = Math.Min(baseMs, policy.MaxBackoff.TotalMilliseconds);
        var spread = 1 + policy.Jitter * (2 * _random() - 1);
        return TimeSpan.FromMilliseconds(Math.Min(baseMs * spread, policy.MaxBackoff.TotalMilliseconds * (1 + policy.Jitter)));
    }
}
