namespace GrpcPlugins.Host.Calls;

/// <summary>
/// Links the caller's token with a call deadline and remembers which fired:
/// a timeout is the plugin's fault (504), a caller's cancel is nobody's.
/// </summary>
internal sealed class CallDeadline : IDisposable
{
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _caller;

    public CallDeadline(TimeSpan deadline, TimeProvider time, CancellationToken caller)
    {
        _caller = caller;
        _timeout = new CancellationTokenSource(deadline, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, caller);
        Deadline = deadline;
    }

    public TimeSpan Deadline { get; }

    /// <summary>Fires at the deadline or when the caller cancels.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>True when the deadline fired and the caller did not cancel.</summary>
    public bool TimedOut => _timeout.IsCancellationRequested && !_caller.IsCancellationRequested;

    /// <summary>True when the caller cancelled.</summary>
    public bool CallerCancelled => _caller.IsCancellationRequested;

    /// <summary>Pushes the deadline on, for a stream that made progress.</summary>
    public void Extend(TimeSpan idle) => _timeout.CancelAfter(idle);

    public void Dispose()
    {
        _linked.Dispose();
        _timeout.Dispose();
    }
}
