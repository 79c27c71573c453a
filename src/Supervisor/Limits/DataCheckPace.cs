namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// When the data-limit watchdog measures next. The host's interval as a rule; sooner
/// while the directory grows towards its limit (half the time it would take at the
/// rate just seen), so a plugin writing fast is stopped near its limit rather than a
/// whole interval past it; later when a walk is slow, so walking a directory of very
/// many files stays under 1 % of the time.
/// </summary>
internal static class DataCheckPace
{
    /// <summary>The shortest pause, however fast the directory grows.</summary>
    public static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(250);

    /// <summary>The pause before the next measurement.</summary>
    /// <param name="interval">The host's interval between measurements.</param>
    /// <param name="walk">How long the last measurement took.</param>
    /// <param name="used">What the directory holds now.</param>
    /// <param name="before">What it held at the measurement before.</param>
    /// <param name="between">The time between the two measurements.</param>
    /// <param name="limit">What it may hold; 0 for no limit.</param>
    public static TimeSpan Next(TimeSpan interval, TimeSpan walk, long used, long before, TimeSpan between, long limit)
    {
        var pause = interval;
        if (limit > 0 && used > before && used < limit && between > TimeSpan.Zero)
        {
            var bytesPerSecond = (used - before) / between.TotalSeconds;
            var untilLimit = TimeSpan.FromSeconds((limit - used) / bytesPerSecond / 2);
            pause = untilLimit < pause ? untilLimit : pause;
            pause = pause < Shortest ? Shortest : pause;
        }

        var budget = walk * 100;
        return budget > pause ? budget : pause;
    }
}
