using System.Text;
using GrpcPlugins.Host.Hooks;

namespace GrpcPlugins.Benchmarks;

/// <summary>A hook call through the host's dispatcher, as the sections make it: one, a run of them for latencies, or a load.</summary>
internal static class HookCalls
{
    public static HookInput Input(int size) =>
        new(Encoding.UTF8.GetBytes(new string('a', size)), "text/plain", new Dictionary<string, string>(), new HookCallContext("bench"));

    public static Task<List<double>> HookLatenciesAsync(IHookDispatcher hooks, HookInput input, int count) =>
        Load.LatenciesAsync(() => HookAsync(hooks, input), count);

    public static Task<double> HookLoopAsync(IHookDispatcher hooks, HookInput input, int inFlight, TimeSpan duration) =>
        Load.InFlightAsync(() => HookAsync(hooks, input), inFlight, duration);

    public static async Task HookAsync(IHookDispatcher hooks, HookInput input)
    {
        var outcome = await hooks.DispatchAsync(BenchHost.Request, input);
        if (outcome.Skipped.Count > 0)
        {
            throw new InvalidOperationException($"a hook call failed: {outcome.Skipped[0]}");
        }
    }
}
