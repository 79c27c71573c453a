using Microsoft.Extensions.Time.Testing;

namespace GrpcPlugins.Tests;

/// <summary>
/// A fake clock whose wall clock can be stepped, as NTP steps a machine's, while its
/// monotonic clock (timestamps, timers) only runs forward with <see cref="Advance"/>.
/// FakeTimeProvider moves both together and never back.
/// </summary>
internal sealed class SteppingClock : TimeProvider
{
    private readonly FakeTimeProvider _monotonic = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
    private TimeSpan _step;

    public override DateTimeOffset GetUtcNow() => _monotonic.GetUtcNow() + _step;

    public override long GetTimestamp() => _monotonic.GetTimestamp();

    public override long TimestampFrequency => _monotonic.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _monotonic.CreateTimer(callback, state, dueTime, period);

    /// <summary>Time passes: both clocks run.</summary>
    public void Advance(TimeSpan by) => _monotonic.Advance(by);

    /// <summary>The wall clock alone jumps, by <paramref name="by"/> (negative: back).</summary>
    public void StepWallClock(TimeSpan by) => _step += by;
}
