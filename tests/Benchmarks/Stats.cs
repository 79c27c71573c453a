namespace GrpcPlugins.Benchmarks;

/// <summary>Percentiles of a set of samples, in microseconds or milliseconds.</summary>
internal static class Stats
{
    public static double Percentile(List<double> samples, double p)
    {
        samples.Sort();
        var index = (int)Math.Clamp(Math.Ceiling(p / 100 * samples.Count) - 1, 0, samples.Count - 1);
        return samples[index];
    }

    public static double Median(List<double> samples) => Percentile(samples, 50);
}
