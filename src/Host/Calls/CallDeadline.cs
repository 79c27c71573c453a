namespace GrpcPlugins.Host.Calls;

/// <summary>
/// Links the caller's token with a call deadline and remembers which fired:
/// a timeout is the plugin's fault (504), a caller's cancel is nobody's.
/// </summary>
internal sealed class CallDeadline : IDisposable
{
    // One source that both the deadline's timer and the caller's cancel fire: a linked source
    // over a timed one cost a second source and a second registration on every call, hook or route.
    private readonly CancellationTokenSource _source;
    private readonly CancellationTokenRegistration _caller;
    private readonly CancellationToken _callerToken;

    public CallDeadline(TimeSpan deadline, TimeProvider time, CancellationToken caller)
    {
        _callerToken = caller;
        _source = new CancellationTokenSource(deadline, time);
        _caller = caller.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), _source);
        Deadline = deadline;
    }

    public TimeSpan Deadline { get; }

    /// <summary>Fires at the deadline or when the caller cancels.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>True when the deadline fired and the caller did not cancel.</summary>
    public bool TimedOut => _source.IsCancellationRequested && !_callerToken.IsCancellationRequested;

    /// <summary>True when the caller cancelled.</summary>
    public bool CallerCancelled => _callerToken.IsCancellationRequested;

    /// <summary>Pushes the deadline on, for a stream that made progress.</summary>
    public void Extend(TimeSpan idle) => _source.CancelAfter(idle);

    public void Dispose()
    {
        // The registration first: its callback may not cancel a disposed source.
        _caller.Dispose();
        _source.Dispose();
    }
}
