using static GrpcPlugins.Benchmarks.Units;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>
/// The hooks, routes, routeparts and endpoint sections, on one host with hello: each finds the worker as
/// the ones before left it, and the worker's memory is read after all of them.
/// </summary>
internal static class HelloSections
{
    public static async Task RunAsync(Report report, ISet<string> chosen)
    {
        await using var host = await BenchHost.StartAsync([BenchHost.Hello("hello")]);
        await host.WaitReadyAsync("hello");
        if (chosen.Contains("hooks"))
        {
            await report.SectionAsync("hooks", () => HooksSection.RunAsync(report, host));
        }

        if (chosen.Contains("routes"))
        {
            await report.SectionAsync("routes", () => RoutesSection.RunAsync(report, host));
        }

        if (chosen.Contains("routeparts"))
        {
            await report.SectionAsync("routeparts", () => RouteLatencySection.RunAsync(report, host));
        }

        if (chosen.Contains("endpoint"))
        {
            await report.SectionAsync("endpoint", () => EndpointSection.RunAsync(report, host));
        }

        var idle = GrpcPlugins.Supervisor.Limits.ProcessGroups.ReadRss(host.Supervisor("hello").Snapshot.Pid!.Value);
        report.Row("worker RSS after the load above (JIT, PluginWorker + hello)", $"{MiB(idle)} MiB");
    }
}
