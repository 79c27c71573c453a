using System.Globalization;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Host.Hosting;

/// <summary>Turns a manifest and the host's options into how its worker is started.</summary>
internal static class WorkerSpecFactory
{
    public static WorkerSpec Create(PluginManifest manifest, PluginHostOptions options)
    {
        if (manifest.AttachAddress is { } address)
        {
            // Runs elsewhere: no process, environment, memory limit or data directory here to give it.
            var attached = new WorkerLimits(manifest.Limits.StartTimeout ?? options.StartTimeout, options.ShutdownGrace, 0, manifest.Limits.MaxConcurrentCalls ?? options.MaxConcurrentCallsPerPlugin);
            return new WorkerSpec(manifest.Id, string.Empty, [], manifest.Folder, new Dictionary<string, string>(), attached) { AttachAddress = address };
        }

        var memoryMiB = manifest.Limits.MemoryMiB ?? options.DefaultMemoryLimitMiB;
        var memoryBytes = (long)memoryMiB * 1024 * 1024;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // The GC keeps a .NET worker's heap under its limit, with headroom
            // for code and native memory, so it fails an allocation before the
            // watchdog has to kill it.
            ["DOTNET_GCHeapHardLimit"] = (memoryBytes * 3 / 4).ToString("X", CultureInfo.InvariantCulture),
            ["DOTNET_gcServer"] = "0",
        };
        var cpus = manifest.Limits.Cpus ?? options.DefaultCpus;
        if (cpus > 0)
        {
            // Go's scheduler (before 1.25) does not read a CFS quota: left at the machine's cores, its
            // threads run past the quota and are throttled for most of each period. .NET reads the quota.
            environment["GOMAXPROCS"] = Math.Max(1, (int)Math.Ceiling(cpus)).ToString(CultureInfo.InvariantCulture);
        }

        // Not a handshake variable the launcher sets: the supervisor knows nothing of the host's state.
        var data = PluginDataDirectory.Ensure(options, manifest.Id);
        environment[HandshakeEnvironment.DataDirectory] = data;

        // The plugin's own needs (a native library path), then the host's admin, who has the last word.
        foreach (var (name, value) in manifest.Environment)
        {
            environment[name] = value;
        }

        foreach (var (name, value) in options.WorkerEnvironment)
        {
            environment[name] = value;
        }

        var dataLimit = new DataLimit(data, (long)(manifest.Limits.DataMiB ?? options.DefaultDataLimitMiB) * 1024 * 1024);
        if (dataLimit.LimitBytes > 0)
        {
            // So a plugin can size its cache to fit, rather than learn the limit by being stopped.
            environment[HandshakeEnvironment.DataLimitBytes] = dataLimit.LimitBytes.ToString(CultureInfo.InvariantCulture);
        }

        if (cpus > 0)
        {
            // So a plugin sizes its pools to the CPU it may use, whichever runtime it is written in.
            environment[HandshakeEnvironment.CpuLimit] = cpus.ToString(CultureInfo.InvariantCulture);
        }

        var limits = new WorkerLimits(manifest.Limits.StartTimeout ?? options.StartTimeout, options.ShutdownGrace, memoryBytes, manifest.Limits.MaxConcurrentCalls ?? options.MaxConcurrentCallsPerPlugin, dataLimit, manifest.Limits.MaxThreads ?? options.DefaultMaxThreads, cpus);
        if (manifest.Assembly is { } assembly)
        {
            var worker = Path.GetFullPath(options.WorkerPath);
            return new WorkerSpec(manifest.Id, DotnetHost.Path, [worker, "--assembly", assembly], manifest.Folder, environment, limits)
            {
                Requires = new RequiredFile(worker, "A plugin with an 'assembly' runs under PluginWorker: set PluginHost:WorkerPath to the published GrpcPlugins.PluginWorker.dll (make plugins publishes it to build/worker)."),
            };
        }

        var command = manifest.Command!;
        if (command == "dotnet")
        {
            command = DotnetHost.Path;
        }
        else if (command.Contains('/', StringComparison.Ordinal) && !Path.IsPathRooted(command))
        {
            command = Path.GetFullPath(Path.Combine(manifest.Folder, command));
        }

        return new WorkerSpec(manifest.Id, command, manifest.Arguments, manifest.Folder, environment, limits);
    }
}
