using System.Collections.Concurrent;
using GrpcPlugins.Host.Audit;
using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// <see cref="PluginHostOptions.ReloadOnChange"/>, for an author's development host: a plugin
/// whose folder changes (a build published over it, a manifest edited) is reloaded once the
/// folder has been quiet for <see cref="Quiet"/>, as <c>POST /admin/api/plugins/{id}/reload</c>
/// does, so the version serving keeps serving when the new files would be refused. Files a
/// plugin writes at start beside itself (Python's <c>__pycache__</c>) are not changes of its build.
/// </summary>
internal sealed partial class FolderReloads(IOptions<PluginHostOptions> options, PluginCatalog catalog, PluginInstaller installer, AuditTrail audit, TimeProvider time, ILogger<FolderReloads> logger) : IHostedService, IDisposable
{
    /// <summary>How long a folder must be quiet before its plugin is reloaded: a publish writes many files.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, ITimer> _pending = new(StringComparer.Ordinal);
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

        if (catalog.Entries.FirstOrDefault(e => e.Supervisor is not null && IsUnder(path, e.Folder)) is not { } entry)
        {
            return;
        }

        // Each change restarts the plugin's quiet time; the reload comes once the publish is done.
        var timer = _pending.GetOrAdd(entry.Id, id => time.CreateTimer(_ => _ = ReloadAsync(id), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        timer.Change(Quiet, Timeout.InfiniteTimeSpan);
    }

    private async Task ReloadAsync(string id)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        InstallResult result;
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

        if (result.Succeeded)
        {
            Log.Reloaded(logger, id, result.Version ?? string.Empty);
        }
        else
        {
            Log.NotReloaded(logger, id, result.Message);
        }

        await audit.RecordAsync(UpgradeWatch.Actor, string.Empty, "plugin.reload", id, string.Empty, result.Succeeded ? 200 : result.Status, $"its folder changed; {result.Message}").ConfigureAwait(false);
    }

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
    }
}
