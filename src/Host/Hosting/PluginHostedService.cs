using GrpcPlugins.Host.Bundles;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// Clears what a previous run left (its workers, their cgroups, unfinished
/// installs and uploads, bundles staged too long ago), starts the plugins with the host, and stops them all, in
/// parallel, when it stops.
/// </summary>
internal sealed partial class PluginHostedService(PluginLifecycle lifecycle, StagedBundles staging, HostRuntimeDirectory runtime, WorkerLedger ledger, WorkerLauncher launcher, IOptions<PluginHostOptions> options, TimeProvider time, ILogger<PluginHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (OwnProcessGroup.ScheduledApart)
        {
            Log.WorkersScheduledApart(logger);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(ledger.Path))!);
        var reaping = ledger.ReapLeftovers();
        foreach (var reaped in reaping.Workers)
        {
            Log.ReapedLeftover(logger, reaped.PluginId, reaped.Pid);
            if (reaped.FilesNotRemoved is { } error)
            {
                Log.ReapedLeftoverFilesStay(logger, reaped.PluginId, reaped.Pid, error);
            }
        }

        if (reaping.Helpers.Count > 0)
        {
            Log.ReapedLeftoverHelpers(logger, reaping.Helpers.Count, string.Join(", ", reaping.Helpers));
        }

        // The workers' cgroups of a run that ended without cleaning up (the host was killed).
        var leftoverCgroups = new List<(string Path, string? Error)>();
        if (launcher.Settings.MemoryCgroup is { } memory)
        {
            leftoverCgroups.AddRange(await memory.RemoveLeftoversAsync(launcher.Settings.HostTag, time).ConfigureAwait(false));
        }

        foreach (var hierarchy in new[] { launcher.Settings.PidsCgroup, launcher.Settings.CpuCgroup }.OfType<Supervisor.Limits.V1Cgroup>())
        {
            leftoverCgroups.AddRange(await hierarchy.RemoveLeftoversAsync(launcher.Settings.HostTag, time).ConfigureAwait(false));
        }

        foreach (var (path, error) in leftoverCgroups)
        {
            if (error is null)
            {
                Log.RemovedLeftoverCgroup(logger, path);
            }
            else
            {
                Log.LeftoverCgroupStays(logger, path, error);
            }
        }

        // Extractions an install had not finished when the host was killed are not plugins.
        var plugins = options.Value.PluginsDirectory;
        foreach (var unfinished in Directory.Exists(plugins) ? Directory.GetDirectories(plugins, BundleArchive.ExtractionPrefix + "*") : [])
        {
            Directory.Delete(unfinished, recursive: true);
            Log.UnfinishedInstallRemoved(logger, unfinished);
        }

        // Uploads and store reads the last run was writing, and bundles staged too long ago.
        staging.Sweep(starting: true);
        await lifecycle.LoadAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await lifecycle.StopAllAsync().ConfigureAwait(false);
        runtime.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4301, EventName = "LeftoverWorkerReaped", Level = LogLevel.Warning, Message = "Plugin {PluginId}: killed worker pid {Pid} left over from a previous run of the host")]
        public static partial void ReapedLeftover(ILogger logger, string pluginId, int pid);

        [LoggerMessage(EventId = 4304, EventName = "LeftoverWorkerFilesStay", Level = LogLevel.Warning, Message = "Plugin {PluginId}: the runtime files of worker pid {Pid}, killed as a previous run's leftover, could not be removed ({Error}); they are the .NET runtime's diagnostic socket and debugger pipes, safe to delete by hand")]
        public static partial void ReapedLeftoverFilesStay(ILogger logger, string pluginId, int pid, string error);

        [LoggerMessage(EventId = 4305, EventName = "LeftoverHelpersReaped", Level = LogLevel.Warning, Message = "Killed {Count} helper process(es) left over from a previous run of the host, found by their workers' tokens: pids {Pids}")]
        public static partial void ReapedLeftoverHelpers(ILogger logger, int count, string pids);

        [LoggerMessage(EventId = 4302, EventName = "LeftoverCgroupRemoved", Level = LogLevel.Warning, Message = "Removed worker cgroup {Path} left over from a previous run of the host")]
        public static partial void RemovedLeftoverCgroup(ILogger logger, string path);

        [LoggerMessage(EventId = 4303, EventName = "LeftoverCgroupStays", Level = LogLevel.Warning, Message = "Worker cgroup {Path} left over from a previous run could not be removed: {Error}")]
        public static partial void LeftoverCgroupStays(ILogger logger, string path, string error);

        [LoggerMessage(EventId = 4306, EventName = "WorkersScheduledApart", Level = LogLevel.Warning, Message = "Workers will lead sessions of their own (setsid: /usr/bin/perl, which starts them in the host's session, is missing), and this kernel schedules each session apart (kernel.sched_autogroup_enabled=1): on a busy machine every hook and route call then costs its worker about twice the CPU. Install Perl (Debian's perl-base), or set kernel.sched_autogroup_enabled=0")]
        public static partial void WorkersScheduledApart(ILogger logger);

        [LoggerMessage(EventId = 1009, EventName = "UnfinishedInstallRemoved", Level = LogLevel.Warning, Message = "Removed {Folder}, an install the host had not finished when it last stopped")]
        public static partial void UnfinishedInstallRemoved(ILogger logger, string folder);
    }
}
