using System.Diagnostics.Metrics;

namespace GrpcPlugins.Host.Calls;

/// <summary>The host's instruments, on the "GrpcPlugins.Host" meter.</summary>
internal sealed class PluginMetrics : IDisposable
{
    public const string MeterName = "GrpcPlugins.Host";

    private readonly Meter _meter;

    public PluginMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        HookCalls = _meter.CreateCounter<long>("plugin.hook.calls", description: "Hook calls by plugin, point and outcome");
        HookDuration = _meter.CreateHistogram<double>("plugin.hook.duration", unit: "s", description: "Hook call latency");
        RouteCalls = _meter.CreateCounter<long>("plugin.route.calls", description: "Route calls by plugin and outcome");
        RouteDuration = _meter.CreateHistogram<double>("plugin.route.duration", unit: "s", description: "Route call latency");
    }

    public Counter<long> HookCalls { get; }

    public Histogram<double> HookDuration { get; }

    public Counter<long> RouteCalls { get; }

    public Histogram<double> RouteDuration { get; }

    public void Dispose() => _meter.Dispose();
}
