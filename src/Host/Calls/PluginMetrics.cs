using System.Diagnostics.Metrics;
using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Calls;

/// <summary>The host's instruments, on the "GrpcPlugins.Host" meter, exported at /metrics.</summary>
internal sealed class PluginMetrics : IDisposable
{
    public const string MeterName = "GrpcPlugins.Host";

    private readonly Meter _meter;

    public PluginMetrics(IMeterFactory meterFactory, PluginCatalog catalog, Routes.WebSockets.OpenWebSockets webSockets)
    {
        _meter = meterFactory.Create(MeterName);
        HookCalls = _meter.CreateCounter<long>("plugin.hook.calls", description: "Hook calls by plugin, point and outcome");
        HookDuration = _meter.CreateHistogram<double>("plugin.hook.duration", unit: "s", description: "Hook call latency");
        RouteCalls = _meter.CreateCounter<long>("plugin.route.calls", description: "Route calls by plugin and outcome");
        RouteDuration = _meter.CreateHistogram<double>("plugin.route.duration", unit: "s", description: "Route call latency");
        HookBreakerOpened = _meter.CreateCounter<long>("plugin.hook.breaker.opened", description: "Times a plugin's hook calls were paused after repeated timeouts");
        LifecycleEvents = _meter.CreateCounter<long>("plugin.lifecycle.events", description: "Lifecycle events by plugin and event");
        SettingsWritesRefused = _meter.CreateCounter<long>("plugin.settings.writes.refused", description: "A plugin's own settings writes refused for their pace");
        AdminActions = _meter.CreateCounter<long>("plugin.admin.actions", description: "Admin actions answered, by action and outcome (done, refused)");
        AuditWritesFailed = _meter.CreateCounter<long>("plugin.audit.writes.failed", description: "Admin actions the audit trail could not keep (each logged as an error)");
        StoreFailures = _meter.CreateCounter<long>("plugin.store.failures", description: "Requests answered as failed because the host's store failed, by caller (admin: 503; plugin: UNAVAILABLE), each logged as an error");
        ReplicaChanges = _meter.CreateCounter<long>("plugin.replica.changes", description: "Changes from other host replicas, by kind and outcome (applied, failed)");
        ReplicaLinkLosses = _meter.CreateCounter<long>("plugin.replica.link.losses", description: "Times this replica lost the shared store's notices (each logged as an error)");

        // Supervisor state is read at scrape time from the same read model the admin API shows.
        _meter.CreateObservableCounter("plugin.restarts", () => Observe(catalog, s => s.Snapshot.Restarts), description: "Worker restarts by plugin");
        _meter.CreateObservableGauge("plugin.memory", () => Observe(catalog, s => s.Snapshot.MemoryBytes), unit: "By", description: "Resident memory of the worker's process tree");
        _meter.CreateObservableGauge("plugin.memory.limit", () => Observe(catalog, s => s.Snapshot.MemoryLimitBytes), unit: "By", description: "The worker's memory limit");
        _meter.CreateObservableGauge("plugin.threads", () => Observe(catalog, s => s.Snapshot.Threads), description: "Threads of the worker's process group (a process counts its own)");
        _meter.CreateObservableGauge("plugin.helpers", () => Observe(catalog, s => s.Snapshot.Helpers), description: "Processes the worker started that left its process group (a session of their own), counted in its memory, threads and CPU time");
        _meter.CreateObservableGauge("plugin.threads.limit", () => Observe(catalog, s => s.Snapshot.ThreadLimit), description: "The threads the worker's process group may run (0: no limit)");
        _meter.CreateObservableGauge("plugin.cpu.limit", () => Observe(catalog, s => s.Snapshot.CpuLimit), description: "The cores' worth of CPU time the worker may use (0: no limit)");
        _meter.CreateObservableCounter("plugin.cpu.time", () => Observe(catalog, s => s.Snapshot.CpuUsed.TotalSeconds), unit: "s", description: "CPU time the worker's process group used (user and system, helpers it reaped included), since it started");
        _meter.CreateObservableCounter("plugin.cpu.throttled", () => Observe(catalog, s => s.Snapshot.CpuThrottled.TotalSeconds), unit: "s", description: "How long the kernel held the Ready worker back at its CPU limit, since it started");
        _meter.CreateObservableGauge("plugin.data", () => Observe(catalog, s => s.Snapshot.DataBytes), unit: "By", description: "What the plugin's data directory held at its last measurement");
        _meter.CreateObservableGauge("plugin.data.limit", () => Observe(catalog, s => s.Snapshot.DataLimitBytes), unit: "By", description: "What the plugin's data directory may hold (0: no limit)");
        _meter.CreateObservableGauge("plugin.state", () => catalog.Entries
            .Where(e => e.Supervisor is not null)
            .Select(e => new Measurement<int>(1, new KeyValuePair<string, object?>("plugin", e.Id), new KeyValuePair<string, object?>("state", e.Supervisor!.Snapshot.State.ToString()))),
            description: "1 for each plugin's current supervisor state");
        _meter.CreateObservableGauge("plugin.calls.in_flight", () => Observe(catalog, s => s.InFlight), description: "Calls (hooks and routes) in flight to each plugin");
        _meter.CreateObservableGauge("plugin.calls.limit", () => Observe(catalog, s => s.MaxConcurrentCalls), description: "Calls each plugin may have in flight at once");
        _meter.CreateObservableGauge("plugin.websockets.open", () => webSockets.All().Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("plugin", p.Key))), description: "WebSockets open on each plugin's routes (not counted in calls in flight)");
        _meter.CreateObservableCounter("plugin.calls.refused", () => Observe(catalog, s => s.CallsRefused), description: "Calls refused, not made, because the plugin had its limit in flight");
    }

    public Counter<long> HookCalls { get; }

    public Histogram<double> HookDuration { get; }

    public Counter<long> RouteCalls { get; }

    public Histogram<double> RouteDuration { get; }

    public Counter<long> LifecycleEvents { get; }

    public Counter<long> HookBreakerOpened { get; }

    public Counter<long> SettingsWritesRefused { get; }

    public Counter<long> AdminActions { get; }

    public Counter<long> AuditWritesFailed { get; }

    public Counter<long> StoreFailures { get; }

    public Counter<long> ReplicaChanges { get; }

    public Counter<long> ReplicaLinkLosses { get; }

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<T>> Observe<T>(PluginCatalog catalog, Func<Supervisor.Supervision.PluginSupervisor, T> value)
        where T : struct =>
        catalog.Entries
            .Where(e => e.Supervisor is not null)
            .Select(e => new Measurement<T>(value(e.Supervisor!), new KeyValuePair<string, object?>("plugin", e.Id)));
}
