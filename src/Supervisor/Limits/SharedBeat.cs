namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// Waits that end on a beat every supervisor in the host shares: the next whole multiple of an
/// interval on the host's monotonic clock. A hundred workers' watchdogs, each waiting its own
/// interval from its own start, woke the host's thread pool up to four hundred times a second,
/// and each wake-up left a pool thread spinning before it slept (the spinning was two fifths of
/// an idle host's samples); on one beat they wake it four times a second and share one pass
/// over /proc.
/// </summary>
internal static class SharedBeat
{
    /// <summary>How long until the next beat of <paramref name="interval"/>: more than zero, at most the interval.</summary>
    public static TimeSpan Until(TimeProvider time, TimeSpan interval)
    {
        var frequency = time.TimestampFrequency;
        var beat = Math.Max(1, (long)(interval.TotalSeconds * frequency));
        var left = beat - (time.GetTimestamp() % beat);
        return TimeSpan.FromTicks(Math.Max(1, (long)((double)left / frequency * TimeSpan.TicksPerSecond)));
    }
}
