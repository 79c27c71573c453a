using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// A plugin's limits: the <c>limits</c> object of its <c>plugin.json</c>, and what the host's
/// admin sets for one plugin in <see cref="PluginHostOptions.PluginLimits"/>, which wins: a
/// signed bundle's manifest cannot be edited, and the admin knows their machine. Each value
/// left unset keeps the manifest's, or the host's default.
/// </summary>
public sealed class PluginLimitsOptions
{
    /// <summary>Memory limit of the worker's whole process group, in MiB; at least 16.</summary>
    public int? MemoryMiB { get; set; }

    /// <summary>Threads its worker's whole process group may run (a process counts its own); at least 16.</summary>
    public int? MaxThreads { get; set; }

    /// <summary>The cores' worth of CPU time its worker may use (0.5: half a core); more than 0, at most <see cref="MostCpus"/>. Held by the kernel only with <see cref="PluginHostOptions.CpuCgroupDirectory"/>.</summary>
    public double? Cpus { get; set; }

    /// <summary>What its data directory may hold, in MiB; at least 1.</summary>
    public int? DataMiB { get; set; }

    /// <summary>Spawn to Ready, in seconds; more than 0, at most 600.</summary>
    public double? StartTimeoutSeconds { get; set; }

    /// <summary>The deadline of its hook calls, in milliseconds, instead of the hook point's.</summary>
    public double? CallTimeoutMs { get; set; }

    /// <summary>The deadline of its route calls, in seconds.</summary>
    public double? RouteTimeoutSeconds { get; set; }

    /// <summary>The largest request body its routes take, in bytes.</summary>
    public long? MaxRequestBodyBytes { get; set; }

    /// <summary>Calls to it (hooks and routes together) in flight at once; at least 1.</summary>
    public int? MaxConcurrentCalls { get; set; }

    /// <summary>WebSockets open on its routes at once; at least 1. A plugin whose server spends a thread on each open call (Python's grpcio, say) sets it to what it can spare.</summary>
    public int? MaxWebSockets { get; set; }

    /// <summary>The most cores a CPU limit may name: more than any machine the host runs on has.</summary>
    internal const double MostCpus = 1024;

    /// <summary>Adds an error for every value out of range, each named by <paramref name="name"/> from its manifest field name.</summary>
    internal void Check(Func<string, string> name, List<string> errors)
    {
        if (MemoryMiB is < 16)
        {
            errors.Add($"{name("memoryMiB")}: {MemoryMiB} is too small; give at least 16.");
        }

        if (MaxThreads is < 16)
        {
            errors.Add($"{name("maxThreads")}: {MaxThreads} is too few for any runtime's own threads; give at least 16 (threads of the worker's whole process group).");
        }

        if (Cpus is <= 0 or > MostCpus || Cpus is double.NaN)
        {
            errors.Add($"{name("cpus")}: {Cpus} must be more than 0 and at most {MostCpus} (the cores' worth of CPU time its worker may use: 0.5 is half a core).");
        }

        if (DataMiB is < 1)
        {
            errors.Add($"{name("dataMiB")}: {DataMiB} must be 1 or more (MiB its data directory may hold; leave it out for the host's default).");
        }

        if (StartTimeoutSeconds is <= 0 or > 600)
        {
            errors.Add($"{name("startTimeoutSeconds")}: {StartTimeoutSeconds} must be between 0 and 600.");
        }

        if (CallTimeoutMs is <= 0)
        {
            errors.Add($"{name("callTimeoutMs")}: {CallTimeoutMs} must be positive.");
        }

        if (RouteTimeoutSeconds is <= 0)
        {
            errors.Add($"{name("routeTimeoutSeconds")}: {RouteTimeoutSeconds} must be positive.");
        }

        if (MaxRequestBodyBytes is < 0)
        {
            errors.Add($"{name("maxRequestBodyBytes")}: {MaxRequestBodyBytes} must be 0 or more.");
        }

        if (MaxConcurrentCalls is < 1)
        {
            errors.Add($"{name("maxConcurrentCalls")}: {MaxConcurrentCalls} must be 1 or more (calls to the plugin, hooks and routes together, in flight at once).");
        }

        if (MaxWebSockets is < 1)
        {
            errors.Add($"{name("maxWebSockets")}: {MaxWebSockets} must be 1 or more (WebSockets open on its routes at once; leave it out for the host's PluginHost:MaxWebSocketsPerPlugin).");
        }
    }

    /// <summary>The values set, in the units the host works in.</summary>
    internal ManifestLimits ToLimits() => new(
        MemoryMiB,
        StartTimeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : null,
        CallTimeoutMs is { } c ? TimeSpan.FromMilliseconds(c) : null,
        RouteTimeoutSeconds is { } r ? TimeSpan.FromSeconds(r) : null,
        MaxRequestBodyBytes,
        MaxConcurrentCalls,
        DataMiB,
        MaxWebSockets,
        MaxThreads,
        Cpus);

    /// <summary>The manifest field names of the values set, with their values, as the admin view shows them.</summary>
    internal IReadOnlyList<string> Describe()
    {
        var set = new List<string>();
        void Add(string field, object? value)
        {
            if (value is not null)
            {
                set.Add(FormattableString.Invariant($"{field}={value}"));
            }
        }

        Add("memoryMiB", MemoryMiB);
        Add("maxThreads", MaxThreads);
        Add("cpus", Cpus);
        Add("dataMiB", DataMiB);
        Add("startTimeoutSeconds", StartTimeoutSeconds);
        Add("callTimeoutMs", CallTimeoutMs);
        Add("routeTimeoutSeconds", RouteTimeoutSeconds);
        Add("maxRequestBodyBytes", MaxRequestBodyBytes);
        Add("maxConcurrentCalls", MaxConcurrentCalls);
        Add("maxWebSockets", MaxWebSockets);
        return set;
    }
}
