namespace GrpcPlugins.Host.Hooks.Breaker;

/// <summary>
/// One plugin's hook breaker. A plugin that misses its deadline call after call
/// (a hung handler while its health service still answers) would otherwise add
/// the whole deadline to every request at every point it hooks; after
/// <see cref="HookBreakerSettings.Timeouts"/> in a row its calls are skipped
/// for <see cref="HookBreakerSettings.Pause"/>, then one trial call decides.
/// Only timeouts count: an error comes back fast, and a worker that died is
/// restarted by its supervisor. A new worker starts with a closed breaker. The pause is
/// measured on the monotonic clock: on the wall clock, an NTP step back of an hour
/// skipped a plugin's hooks for an hour more.
/// </summary>
internal sealed class HookBreaker(HookBreakerSettings settings, TimeProvider time)
{
    private readonly Lock _lock = new();
    private int _worker;
    private int _timeouts;
    // When it opened (TimeProvider.GetTimestamp); null while closed.
    private long? _openedAt;

    // Mirrors _openedAt != null, so that a healthy plugin's calls take no lock: the hot path.
    private volatile bool _paused;
    private bool _trialOut;
    private long _opened;

    /// <summary>Asks to call the worker with process id <paramref name="worker"/>.</summary>
    public HookBreakerPass Enter(int worker)
    {
        if (!settings.Enabled)
        {
            return HookBreakerPass.Go(worker, trial: false);
        }

        if (!_paused && Volatile.Read(ref _worker) == worker)
        {
            return HookBreakerPass.Go(worker, trial: false);
        }

        lock (_lock)
        {
            if (worker != _worker)
            {
                // What the last worker did says nothing about this one.
                (_worker, _timeouts, _openedAt, _paused, _trialOut) = (worker, 0, null, false, false);
            }

            if (_openedAt is not { } openedAt)
            {
                return HookBreakerPass.Go(worker, trial: false);
            }

            if (PauseLeft(openedAt) is var left && left > TimeSpan.Zero)
            {
                return HookBreakerPass.Skip(worker, left);
            }

            if (_trialOut)
            {
                // The trial's answer is due within its deadline; a second earlier is as good a guess as any.
                return HookBreakerPass.Skip(worker, TimeSpan.FromSeconds(1));
            }

            _trialOut = true;
            return HookBreakerPass.Go(worker, trial: true);
        }
    }

    /// <summary>Counts how a call that went through ended.</summary>
    public HookBreakerChange Exit(HookBreakerPass pass, HookCallEnd end)
    {
        if (!settings.Enabled || (end == HookCallEnd.Answered && !pass.Trial && !_paused && Volatile.Read(ref _timeouts) == 0))
        {
            return HookBreakerChange.None;
        }

        lock (_lock)
        {
            if (pass.Worker != _worker)
            {
                return HookBreakerChange.None;
            }

            if (pass.Trial)
            {
                _trialOut = false;
            }
            else if (_openedAt is not null)
            {
                // Calls that started before the pause end during it; only the trial decides.
                return HookBreakerChange.None;
            }

            switch (end)
            {
                case HookCallEnd.Answered:
                    _timeouts = 0;
                    if (pass.Trial)
                    {
                        (_openedAt, _paused) = (null, false);
                        return HookBreakerChange.Closed;
                    }

                    return HookBreakerChange.None;
                case HookCallEnd.TimedOut:
                    _timeouts++;
                    if (pass.Trial || _timeouts >= settings.Timeouts)
                    {
                        (_openedAt, _paused) = (time.GetTimestamp(), true);
                        _opened++;
                        return pass.Trial ? HookBreakerChange.Reopened : HookBreakerChange.Opened;
                    }

                    return HookBreakerChange.None;
                default:
                    return HookBreakerChange.None;
            }
        }
    }

    public HookBreakerView View()
    {
        lock (_lock)
        {
            if (_openedAt is not { } openedAt)
            {
                return new HookBreakerView(HookBreakerState.Closed, _timeouts, null, _opened);
            }

            // Shown on the wall clock as it reads now.
            var left = PauseLeft(openedAt);
            var state = _trialOut || left <= TimeSpan.Zero ? HookBreakerState.Trial : HookBreakerState.Open;
            return new HookBreakerView(state, _timeouts, time.GetUtcNow() + left, _opened);
        }
    }

    private TimeSpan PauseLeft(long openedAt) => settings.Pause - time.GetElapsedTime(openedAt);
}
