using static GrpcPlugins.Benchmarks.HttpCalls;

namespace GrpcPlugins.Benchmarks;

/// <summary>Two measurements taken in turn, so that both see the same drift of this noisy machine, and the spread of their ratios.</summary>
internal static class InTurn
{
    // Two rates taken a minute apart differ by tens of percent on this machine, whose speed
    // drifts within minutes; windows taken in turn put both paths under the same drift. The
    // latency ratio is ours over theirs, so for both figures parity is 1.00 and the issue's
    // target is a rate ratio of at least 1 and a latency ratio of at most 1.
    public static Task<(string Rate, string Latency)> AlternatingRatiosAsync(HttpClient ours, string ourPath, HttpClient yarp, string yarpPath) =>
        AlternatingRatiosAsync(() => RouteAsync(ours, ourPath), () => RouteAsync(yarp, yarpPath));

    /// <summary>The rate and latency ratios of <paramref name="a"/> over <paramref name="b"/>, in windows taken in turn.</summary>
    public static async Task<(string Rate, string Latency)> AlternatingRatiosAsync(Func<Task> a, Func<Task> b)
    {
        var rounds = await AlternatingAsync(a, b);
        return (Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)]), Spread([.. rounds.Select(r => r.A.P50 / r.B.P50)]));
    }

    // Eight rounds of two paths, each a 2 s window at 16 in flight and the p50 of 400 calls at 1.
    public static Task<List<((double Rate, double P50) A, (double Rate, double P50) B)>> AlternatingAsync(Func<Task> a, Func<Task> b)
    {
        return InTurnAsync(() => RoundAsync(a), () => RoundAsync(b), 8);

        static async Task<(double Rate, double P50)> RoundAsync(Func<Task> call)
        {
            var rate = await Load.InFlightAsync(call, 16, TimeSpan.FromSeconds(2));
            var p50 = Stats.Median(await Load.LatenciesAsync(call, 400));
            return (rate, p50);
        }
    }

    // Rounds of two measurements taken in turn; half the rounds start with the second, so neither
    // always comes second on a machine whose speed drifts.
    public static async Task<List<(T A, T B)>> InTurnAsync<T>(Func<Task<T>> a, Func<Task<T>> b, int rounds)
    {
        var results = new List<(T, T)>();
        for (var i = 0; i < rounds; i++)
        {
            if (i % 2 == 0)
            {
                var first = await a();
                results.Add((first, await b()));
            }
            else
            {
                var second = await b();
                results.Add((await a(), second));
            }
        }

        return results;
    }

    public static string Spread(List<double> values)
    {
        values.Sort();
        return $"{Stats.Median(values):0.00} ({values[0]:0.00}–{values[^1]:0.00})";
    }
}
