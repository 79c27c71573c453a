using System.Collections.Concurrent;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// <see cref="PluginHostOptions.ReloadOnChange"/>, for an author's development host: a plugin
/// whose folder changes (a build published over it, a manifest edited) is reloaded once the
/// folder has been quiet for <see cref="Quiet"/>, as <c>POST /admin/api/plugins/{id}/reload</c>
/// does, so the version serving keeps serving when the new files would be refused. Files a
/// plugin writes at start beside itself (Python's <c>__pycache__</c>, or a log it keeps in its
/// folder, found by <see cref="FolderChangeSet"/>) are not changes of its build.
/// </summary>
internal sealed partial class FolderReloads(IOptions<PluginHostOptions> options, PluginCatalog catalog, PluginInstaller installer, AuditTrail audit, LifecycleEvents events, TimeProvider time, ILogger<FolderReloads> logger) : IHostedService, IDisposable
{
    /// <summary>How long a folder must be quiet before its plugin is reloaded: a publish writes many files.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    /// <summary>The longest a change waits for quiet: a plugin writing into its folder all the time would otherwise hold every reload back.</summary>
    public static readonly TimeSpan MostWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after its worker is Ready a plugin still counts as starting, for the files it writes
    /// as it starts: short, so that an author saving again right after a reload is not taken for it.
    /// </summary>
    public static readonly TimeSpan JustReady = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, ITimer> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FolderChangeSet> _changes = new(StringComparer.Ordinal);
    // Reloads on change running per plugin: a count, since one may start while another still drains.
    private readonly ConcurrentDictionary<string, int> _reloading = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private FileSystemWatcher? _watcher;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.ReloadOnChange || !Directory.Exists(options.Value.PluginsDirectory))
        {
            return Task.CompletedTask;
        }

        _watcher = new FileSystemWatcher(Path.GetFullPath(options.Value.PluginsDirectory))
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        _watcher.Changed += (_, e) => Changed(e.FullPath);
        _watcher.Created += (_, e) => Changed(e.FullPath);
        _watcher.Deleted += (_, e) => Changed(e.FullPath);
        _watcher.Renamed += (_, e) => Changed(e.FullPath);
        _watcher.Error += (_, e) => Log.WatchFailed(logger, options.Value.PluginsDirectory, e.GetException().Message);
        try
        {
            _watcher.EnableRaisingEvents = true;
        }
        catch (IOException ex)
        {
            // The machine's inotify limits (fs.inotify.max_user_watches, max_user_instances): a development
            // convenience lost is said once, and the host starts as without it.
            Log.WatchFailed(logger, options.Value.PluginsDirectory, ex.Message);
            return Task.CompletedTask;
        }

        Log.Watching(logger, options.Value.PluginsDirectory);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _watcher?.Dispose();
        foreach (var timer in _pending.Values)
        {
            timer.Dispose();
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _stopping.Dispose();
    }

    private void Changed(string path)
    {
        var segments = path.Split('/');
        if (segments.Any(s => s.StartsWith('.') || s == "__pycache__"))
        {
            // An install's extraction, a signature folder, or what an interpreter caches beside its sources.
            return;
        }

        if (catalog.Entries.FirstOrDefault(e => e.Supervisor is not null && IsUnder(path, e.Folder)) is not { Supervisor: { } supervisor } entry)
        {
            return;
        }

        var snapshot = supervisor.Snapshot;
        var asItStarted = _reloading.GetValueOrDefault(entry.Id) > 0
            || snapshot.State == WorkerState.Starting
            || (snapshot.ReadySince is { } ready && time.GetUtcNow() - ready <= JustReady);
        var changes = _changes.GetOrAdd(entry.Id, _ => new FolderChangeSet());
        TimeSpan due;
        lock (changes)
        {
            var now = time.GetTimestamp();
            if (!changes.Note(Path.GetRelativePath(entry.Folder, path), asItStarted, now))
            {
                return;
            }

            // Each change restarts the plugin's quiet time; the reload comes once the publish is done.
            due = TimeSpan.FromTicks(Math.Min(Quiet.Ticks, Math.Max(0, (MostWait - time.GetElapsedTime(changes.FirstChange!.Value, now)).Ticks)));
        }

        var timer = _pending.GetOrAdd(entry.Id, id => time.CreateTimer(_ => _ = ReloadAsync(id), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The files in <paramref name="pluginId"/>'s folder found to be its own output and no longer
    /// watched; null when <see cref="PluginHostOptions.ReloadOnChange"/> is off.
    /// </summary>
    public IReadOnlyList<string>? IgnoredIn(string pluginId)
    {
        if (!options.Value.ReloadOnChange)
        {
            return null;
        }

        if (!_changes.TryGetValue(pluginId, out var changes))
        {
            return [];
        }

        lock (changes)
        {
            return changes.Ignored;
        }
    }

    private async Task ReloadAsync(string id)
    {
        if (_stopping.IsCancellationRequested || !_changes.TryGetValue(id, out var changes))
        {
            return;
        }

        FolderChanges taken;
        lock (changes)
        {
            taken = changes.Take();
        }

        if (taken.FoundToBeThePlugins.Count > 0)
        {
            var files = string.Join(", ", taken.FoundToBeThePlugins);
            Log.PluginWritesItsFolder(logger, id, files, FolderChangeSet.EchoesToIgnore);
            events.Record(id, "folder-files-ignored", $"{files} changed as the plugin started, {FolderChangeSet.EchoesToIgnore} starts in a row: the plugin's own output, no longer a reason to reload it.");
        }

        if (taken.Changed.Count == 0)
        {
            return;
        }

        InstallResult result;
        _reloading.AddOrUpdate(id, 1, (_, running) => running + 1);
        try
        {
            result = await installer.ReloadAsync(id, new HashSet<string>(), _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host is stopping.
            return;
        }
        catch (Exception ex)
        {
            // Isolation boundary: the plugin keeps serving as it was, and the reason is said.
            result = InstallResult.Fail(500, $"{ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            _reloading.AddOrUpdate(id, 0, (_, running) => running - 1);
        }

        if (result.Succeeded)
        {
            Log.Reloaded(logger, id, result.Version ?? string.Empty);
        }
        else
        {
            Log.NotReloaded(logger, id, result.Message);
        }

        await audit.RecordAsync(UpgradeWatch.Actor, string.Empty, "plugin.reload", id, string.Empty, result.Succeeded ? 200 : result.Status, $"its folder changed ({Named(taken.Changed)}); {result.Message}").ConfigureAwait(false);
    }

    private static string Named(IReadOnlyList<string> files) =>
        files.Count <= 3 ? string.Join(", ", files) : $"{string.Join(", ", files.Take(3))} and {files.Count - 3} more";

    private static bool IsUnder(string path, string folder)
    {
        var root = Path.GetFullPath(folder).TrimEnd('/') + "/";
        return path.StartsWith(root, StringComparison.Ordinal);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1097, EventName = "ReloadOnChangeWatching", Level = LogLevel.Warning, Message = "PluginHost:ReloadOnChange is on: a plugin whose folder in {Directory} changes is reloaded from it. For development; a production host installs signed bundles.")]
        public static partial void Watching(ILogger logger, string directory);

        [LoggerMessage(EventId = 1098, EventName = "PluginReloadedOnChange", Level = LogLevel.Information, Message = "Plugin {PluginId}: its folder changed, and {Version} was reloaded from it.")]
        public static partial void Reloaded(ILogger logger, string pluginId, string version);

        [LoggerMessage(EventId = 1099, EventName = "PluginNotReloadedOnChange", Level = LogLevel.Warning, Message = "Plugin {PluginId}: its folder changed, but was not reloaded: {Reason}")]
        public static partial void NotReloaded(ILogger logger, string pluginId, string reason);

        [LoggerMessage(EventId = 1100, EventName = "ReloadOnChangeFailed", Level = LogLevel.Error, Message = "PluginHost:ReloadOnChange does not watch {Directory}: {Reason}. Reload plugins with POST /admin/api/plugins/{{id}}/reload, or raise the machine's inotify limits (fs.inotify.max_user_watches) and restart the host.")]
        public static partial void WatchFailed(ILogger logger, string directory, string reason);

        [LoggerMessage(EventId = 1101, EventName = "PluginWritesItsFolder", Level = LogLevel.Warning, Message = "Plugin {PluginId} writes {Files} into its own folder as it starts ({Starts} starts in a row): PluginHost:ReloadOnChange no longer reloads it when they change. A plugin's own files belong in its data directory (PLUGIN_DATA_DIR), which outlives upgrades; its folder is replaced by each one.")]
        public static partial void PluginWritesItsFolder(ILogger logger, string pluginId, string files, int starts);
    }
}
