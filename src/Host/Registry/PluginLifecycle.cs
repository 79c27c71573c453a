using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Settings;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Policies;
using GrpcPlugins.Supervisor.Supervision;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// Loads the plugins directory into the catalog, gives each valid plugin a
/// supervisor, and carries out enable, disable and restart, persisting the
/// enabled state. It does not spawn, dispatch or forward: supervisors spawn,
/// the dispatcher and the forwarder call.
/// </summary>
internal sealed partial class PluginLifecycle(
    PluginCatalog catalog,
    IPluginStore store,
    StoredSettingsCheck settingsCheck,
    WorkerLauncher launcher,
    ProcessGroupSampler memory,
    IOptions<PluginHostOptions> options,
    IOptionsMonitor<PluginHostOptions> current,
    Health.PluginHealthRegistrations health,
    LifecycleEvents events,
    Hooks.Tenancy.TenantScopes tenantScopes,
    SettingsCatchUp catchUp,
    DescribedSchemas describedSchemas,
    StoredSecretsSealing sealing,
    ILoggerFactory loggerFactory,
    TimeProvider time) : IDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<PluginLifecycle>();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (LifecycleState State, string Reason)> _states = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<Task> _dependentStarts = new();

    /// <summary>Where <paramref name="id"/> is in its lifecycle, and why.</summary>
    public (LifecycleState State, string Reason) StateOf(string id) =>
        _states.TryGetValue(id, out var state) ? state : (LifecycleState.Refused, "unknown plugin");

    /// <summary>Discovers plugins and starts every enabled one (without waiting for them to be Ready).</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        // Before any plugin is published as a hook target: no call may reach a tenant an admin kept it from.
        await tenantScopes.LoadAsync(cancellationToken).ConfigureAwait(false);
        // Before any entry is made: one a plugin not started yet gets is what the store kept.
        await describedSchemas.LoadAsync(cancellationToken).ConfigureAwait(false);
        var settings = options.Value;
        var entries = new List<PluginEntry>();
        var trust = Bundles.TrustStore.Load(settings.TrustedKeysDirectory);
        foreach (var problem in trust.Unreadable)
        {
            Log.TrustedKeyUnreadable(_logger, problem);
        }

        if (!Directory.Exists(settings.PluginsDirectory))
        {
            // Legitimate on a host whose plugins all come through the admin API; a typo otherwise, which no plugin would show.
            Log.PluginsDirectoryMissing(_logger, Path.GetFullPath(settings.PluginsDirectory));
        }

        var discovered = PluginDiscovery.Discover(settings.PluginsDirectory).Select(found => CheckBundle(found, trust, settings)).ToList();
        var (startOrder, dependencyRefusals) = DependencyResolver.Resolve([.. discovered.Where(f => f.Manifest is not null && f.Errors.Count == 0).Select(f => f.Manifest!)]);
        foreach (var found in discovered)
        {
            if (found.Manifest is { } valid && found.Errors.Count == 0 && dependencyRefusals.TryGetValue(valid.Id, out var refusal))
            {
                Log.PluginRefused(_logger, found.Id, found.Folder, refusal);
                _states[found.Id] = (LifecycleState.Refused, refusal);
                entries.Add(new PluginEntry(found.Id, found.Folder, found.Manifest, null, [refusal]) { Described = Described(found.Manifest) });
                continue;
            }

            if (found.Manifest is null || found.Errors.Count > 0)
            {
                Log.PluginRefused(_logger, found.Id, found.Folder, string.Join(" ", found.Errors));
                _states[found.Id] = (LifecycleState.Refused, string.Join(" ", found.Errors));
                entries.Add(new PluginEntry(found.Id, found.Folder, found.Manifest, null, found.Errors) { Described = Described(found.Manifest) });
                continue;
            }

            entries.Add(CreateEntry(found.Manifest, found.Folder));
        }

        catalog.Publish(entries);
        foreach (var id in settings.PluginLimits.Keys.Where(id => catalog.Find(id) is null))
        {
            Log.LimitsForNoPlugin(_logger, id, string.Join(", ", entries.Select(e => e.Id)));
        }

        health.Register();
        // Dependencies first: a plugin with dependencies starts once they are Ready;
        // the others start at once, side by side.
        var starts = new Dictionary<string, Task>(StringComparer.Ordinal);
        foreach (var entry in startOrder.Select(m => entries.First(e => e.Id == m.Id && e.Supervisor is not null)))
        {
            if (await store.GetEnabledAsync(entry.Id, cancellationToken).ConfigureAwait(false) == false)
            {
                _states[entry.Id] = (LifecycleState.Disabled, "disabled by an admin");
                continue;
            }

            var dependencies = entry.Manifest!.Dependencies
                .Where(d => starts.ContainsKey(d.Id))
                .Select(d => new StartedDependency(starts[d.Id], catalog.Find(d.Id)!.Supervisor!))
                .ToList();
            if (dependencies.Count == 0)
            {
                await ActivateAsync(entry, cancellationToken).ConfigureAwait(false);
                starts[entry.Id] = Task.CompletedTask;
            }
            else
            {
                starts[entry.Id] = StartLater(entry, dependencies);
            }
        }
    }

    /// <summary>An entry with its own supervisor for a valid manifest; lifecycle events are wired, nothing is started.</summary>
    public PluginEntry CreateEntry(PluginManifest manifest, string folder)
    {
        PluginLimitsOptions? admin;
        try
        {
            admin = HostLimits(current.CurrentValue, manifest.Id);
        }
        catch (OptionsValidationException)
        {
            // An edit the start would refuse: the limits the host started with stand (a restart of the plugin names the errors).
            admin = HostLimits(options.Value, manifest.Id);
        }

        var entry = CreateEntry(manifest, folder, admin);
        events.Record(manifest.Id, "installed", $"{manifest.Version} from {folder}");
        return entry;
    }

    private PluginEntry CreateEntry(PluginManifest manifest, string folder, PluginLimitsOptions? admin)
    {
        var declared = manifest.Limits;
        if (admin is not null)
        {
            // The admin's figures replace the vendor's everywhere a limit is read: the worker's
            // spec below, the dispatcher's deadline and the forwarder's, through the entry's manifest.
            manifest = manifest with { Limits = declared.OverriddenBy(admin.ToLimits()) };
            Log.LimitsOverridden(_logger, manifest.Id, string.Join(", ", admin.Describe()));
        }

        var settings = options.Value;
        var described = describedSchemas.For(manifest);
        var check = new PluginStartCheck(manifest, store, describedSchemas, described);
        var supervisor = new PluginSupervisor(WorkerSpecFactory.Create(manifest, settings), CreateSupervision(manifest, settings), launcher, memory, check.RunAsync, loggerFactory, time);
        var previous = WorkerState.Stopped;
        supervisor.StateChanged += snapshot =>
        {
            // After a start only: a worker Ready again after a failed probe was offered every write meanwhile.
            if (snapshot.State == WorkerState.Ready && previous == WorkerState.Starting && !_stopping.IsCancellationRequested)
            {
                _ = catchUp.RunAsync(manifest.Id, check.Configured, _stopping.Token); // logs its own failures
                // Off the state change's thread: SQLite's calls run synchronously, and a plugin may have many rows.
                var (schema, stopping) = (manifest.SettingsSchema ?? described.Schema, _stopping.Token);
                _ = Task.Run(() => sealing.RunAsync(manifest.Id, schema, stopping), CancellationToken.None); // logs its own failures
            }

            previous = snapshot.State;

            if (snapshot.State is WorkerState.Crashed or WorkerState.CrashLooping or WorkerState.Halted)
            {
                var name = snapshot.State switch
                {
                    WorkerState.Crashed => "crashed",
                    WorkerState.CrashLooping => "crash-looping",
                    _ => "halted",
                };
                events.Record(manifest.Id, name, snapshot.LastError ?? string.Empty);
            }
        };
        if (manifest.AllowAnonymousEndpoints || manifest.Routes.Any(r => r.Anonymous))
        {
            var routes = manifest.AllowAnonymousEndpoints ? "all routes" : string.Join(", ", manifest.Routes.Where(r => r.Anonymous).Select(r => $"{r.Method} {r.Path}"));
            Log.AnonymousRoutes(_logger, manifest.Id, manifest.Version, routes);
        }

        return new PluginEntry(manifest.Id, folder, manifest, supervisor, []) { DeclaredLimits = declared, LimitsSetByHost = admin?.Describe() ?? [], Described = described };
    }

    // A refused plugin's settings are still shown and written: its kept schema masks and validates them.
    private DescribedSettingsSchema Described(PluginManifest? manifest) => manifest is null ? new() : describedSchemas.For(manifest);

    private static PluginLimitsOptions? HostLimits(PluginHostOptions settings, string id) =>
        settings.PluginLimits.TryGetValue(id, out var admin) ? admin : null;

    /// <summary>Activates a newly installed entry (persisted enabled) unless its stored settings do not satisfy its schema, once its dependencies are Ready.</summary>
    public async Task ActivateNewAsync(PluginEntry entry, CancellationToken cancellationToken)
    {
        health.Register();
        await store.SetEnabledAsync(entry.Id, true, cancellationToken).ConfigureAwait(false);
        // A dependency installed just before may still be starting: the same wait as at load.
        var starting = entry.Manifest!.Dependencies
            .Select(d => catalog.Find(d.Id)?.Supervisor)
            .OfType<PluginSupervisor>()
            .Where(s => s.State != WorkerState.Ready && StateOf(s.PluginId).State == LifecycleState.Active)
            .Select(s => new StartedDependency(Task.CompletedTask, s))
            .ToList();
        if (starting.Count == 0)
        {
            await ActivateAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            _ = StartLater(entry, starting); // awaited by StopAllAsync; its failures are logged and shown inside
        }
    }

    /// <summary>Marks an upgraded entry active, its worker already Ready.</summary>
    public void MarkActive(string id, string detail)
    {
        _states[id] = (LifecycleState.Active, string.Empty);
        events.Record(id, "activated", detail);
    }

    /// <summary>Reads one plugin folder as a load does: its manifest, and its files against their signed bundle (unsigned only in development).</summary>
    public PluginDiscovery.Found ReadFolder(string id, string folder)
    {
        var manifest = ManifestReader.Read(folder, out var errors);
        return CheckBundle(new PluginDiscovery.Found(id, folder, manifest, errors), Bundles.TrustStore.Load(options.Value.TrustedKeysDirectory), options.Value);
    }

    /// <summary>Forgets an uninstalled plugin's lifecycle state.</summary>
    public void Forget(string id)
    {
        _states.TryRemove(id, out _);
        events.Record(id, "uninstalled", string.Empty);
    }

    /// <summary>
    /// Every load checks the installed files against their signed bundle; a
    /// plugin folder without one loads only in development mode, with a warning.
    /// </summary>
    private PluginDiscovery.Found CheckBundle(PluginDiscovery.Found found, Bundles.TrustStore trust, PluginHostOptions settings)
    {
        if (found.Manifest is null || found.Errors.Count > 0)
        {
            return found;
        }

        var problems = Bundles.BundleVerifier.Verify(found.Folder, trust, out _);
        if (problems is null)
        {
            if (settings.AllowUnsignedPlugins)
            {
                Log.UnsignedPlugin(_logger, found.Manifest.Id, found.Manifest.Version, found.Folder);
                return found;
            }

            return found with { Errors = [$"unsigned: {found.Folder} was not installed from a signed bundle. Install the publisher's bundle, or set PluginHost:AllowUnsignedPlugins=true for development only."] };
        }

        return problems.Count == 0 ? found : found with { Errors = problems };
    }

    /// <summary>Starts the plugin unless its stored settings do not satisfy its schema, which leaves it pending configuration; true when started.</summary>
    private async Task<bool> ActivateAsync(PluginEntry entry, CancellationToken cancellationToken)
    {
        if (await settingsCheck.FindAsync(entry.Manifest!, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            var reason = $"{problem.What}. Set them with {problem.Calls(entry.Id)}.";
            _states[entry.Id] = (LifecycleState.PendingConfig, reason);
            events.Record(entry.Id, "pending-config", reason);
            return false;
        }

        _states[entry.Id] = (LifecycleState.Active, string.Empty);
        await entry.Supervisor!.StartAsync(cancellationToken).ConfigureAwait(false);
        events.Record(entry.Id, "activated", string.Empty);
        return true;
    }

    /// <summary>After a committed settings write: a plugin pending configuration that now has all it needs starts.</summary>
    public async Task OnSettingsCommittedAsync(string id, CancellationToken cancellationToken)
    {
        if (StateOf(id).State == LifecycleState.PendingConfig && catalog.Find(id) is { Supervisor: not null } entry)
        {
            await ActivateAsync(entry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Enables a plugin (persisted) and starts it, unless its stored settings do not satisfy its schema; clears a crash loop.</summary>
    public async Task<EnableResult> EnableAsync(string id, CancellationToken cancellationToken)
    {
        if (catalog.Find(id)?.Supervisor is null)
        {
            return EnableResult.NotManageable;
        }

        await store.SetEnabledAsync(id, true, cancellationToken).ConfigureAwait(false);
        var started = await ActivateAsync(catalog.Find(id)!, cancellationToken).ConfigureAwait(false);
        Log.Enabled(_logger, id);
        return started ? EnableResult.Enabled : EnableResult.PendingConfig;
    }

    /// <summary>
    /// Another host replica enabled or disabled the plugin: this replica follows what the store
    /// says now, without writing it again. Null when nothing changed here.
    /// </summary>
    public async Task<bool?> FollowStoredEnabledAsync(string id, string where, CancellationToken cancellationToken)
    {
        if (catalog.Find(id) is not { Supervisor: { } supervisor } entry
            || await store.GetEnabledAsync(id, cancellationToken).ConfigureAwait(false) is not { } enabled)
        {
            return null;
        }

        var state = StateOf(id).State;
        if (enabled && state == LifecycleState.Disabled)
        {
            await ActivateAsync(entry, cancellationToken).ConfigureAwait(false);
            Log.Enabled(_logger, id);
            return true;
        }

        if (!enabled && state != LifecycleState.Disabled)
        {
            await supervisor.StopAsync().ConfigureAwait(false);
            _states[id] = (LifecycleState.Disabled, $"disabled by an admin {where}");
            events.Record(id, "deactivated", where);
            Log.Disabled(_logger, id);
            return false;
        }

        return null;
    }

    /// <summary>Disables a plugin (persisted) and stops its worker gracefully.</summary>
    public async Task<bool> DisableAsync(string id, CancellationToken cancellationToken)
    {
        if (catalog.Find(id)?.Supervisor is not { } supervisor)
        {
            return false;
        }

        await store.SetEnabledAsync(id, false, cancellationToken).ConfigureAwait(false);
        await supervisor.StopAsync().ConfigureAwait(false);
        _states[id] = (LifecycleState.Disabled, "disabled by an admin");
        events.Record(id, "deactivated", string.Empty);
        Log.Disabled(_logger, id);
        return true;
    }

    /// <summary>
    /// Restarts a plugin's worker at an admin's request: a running one is
    /// replaced; one its supervisor gave up on (crash loop, exit) starts afresh;
    /// a disabled one or one waiting for settings is left alone, since neither
    /// is meant to run.
    /// </summary>
    public async Task<(RestartResult Result, string Reason)> RestartAsync(string id, CancellationToken cancellationToken)
    {
        if (catalog.Find(id)?.Supervisor is not { } supervisor)
        {
            return (RestartResult.NotManageable, string.Empty);
        }

        var (state, reason) = StateOf(id);
        if (state is LifecycleState.Disabled or LifecycleState.PendingConfig)
        {
            var (what, how) = state == LifecycleState.Disabled ? ("disabled", "Enable it to start it.") : ("waiting for settings", "Set them to start it.");
            return (RestartResult.NotMeantToRun, $"'{id}' is {what}: {reason}. {how}");
        }

        PluginLimitsOptions? admin;
        try
        {
            // The host's configuration as it is now: an admin who raised a plugin's limit in
            // appsettings.json restarts that plugin, not the host and every other plugin.
            admin = HostLimits(current.CurrentValue, id);
        }
        catch (OptionsValidationException ex)
        {
            return (RestartResult.NotMeantToRun, $"'{id}' was not restarted: the host's configuration now has errors, so its limits cannot be read: {string.Join(" ", ex.Failures)} Fix the configuration and restart it again.");
        }

        var entry = catalog.Find(id)!;
        var limits = admin is null ? entry.DeclaredLimits! : entry.DeclaredLimits!.OverriddenBy(admin.ToLimits());
        if (limits != entry.Manifest!.Limits)
        {
            await ReplaceForLimitsAsync(entry, admin, cancellationToken).ConfigureAwait(false);
            return (RestartResult.Restarting, string.Empty);
        }

        var detail = "by an admin";
        if (!supervisor.RequestRestart())
        {
            detail += $", after {supervisor.State}: started afresh";
            await supervisor.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        events.Record(id, "restart-requested", detail);
        return (RestartResult.Restarting, string.Empty);
    }

    /// <summary>
    /// Restarts a plugin with the limits the host's configuration now sets for it: a new entry
    /// and supervisor take the old one's place, as an upgrade's do, with the same manifest.
    /// </summary>
    private async Task ReplaceForLimitsAsync(PluginEntry old, PluginLimitsOptions? admin, CancellationToken cancellationToken)
    {
        var next = CreateEntry(old.Manifest! with { Limits = old.DeclaredLimits! }, old.Folder, admin);
        catalog.Change(entries => [.. entries.Select(e => e == old ? next : e)]);
        await old.Supervisor!.DisposeAsync().ConfigureAwait(false);
        var now = admin is null ? "its manifest's" : string.Join(", ", admin.Describe());
        events.Record(old.Id, "restart-requested", $"by an admin, with the limits the host's configuration now sets: {now}");
        await next.Supervisor!.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Stops every worker in parallel, each within its grace period; starts still waiting for dependencies are dropped.</summary>
    public async Task StopAllAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_dependentStarts).ConfigureAwait(false);
        await Task.WhenAll(catalog.Entries.Where(e => e.Supervisor is not null).Select(e => e.Supervisor!.StopAsync())).ConfigureAwait(false);
    }

    private static SupervisionSettings CreateSupervision(PluginManifest manifest, PluginHostOptions options) => new(
        manifest.AttachAddress is null
            ? new RestartPolicy(manifest.Restart, options.RestartInitialBackoff, options.RestartMaxBackoff, 0.2, options.RestartStablePeriod, options.MaxRestarts, options.RestartWindow)
            // An attached worker that is away (its pod rescheduled, a network partition) costs the
            // host a probe now and then, not a process: the host keeps reaching for it at the
            // backoff's pace and never trips the breaker, which would need an admin to clear.
            : new RestartPolicy(RestartMode.Permanent, options.RestartInitialBackoff, options.RestartMaxBackoff, 0.2, options.RestartStablePeriod, int.MaxValue, options.RestartWindow),
        options.HealthInterval,
        options.HealthTimeout,
        options.HealthFailureThreshold,
        options.MemoryCheckInterval,
        options.DataCheckInterval);

    /// <summary>What a restart request did.</summary>
    internal enum RestartResult
    {
        Restarting,
        NotMeantToRun,
        NotManageable,
    }

    /// <summary>What an enable did.</summary>
    internal enum EnableResult
    {
        /// <summary>Enabled and starting.</summary>
        Enabled,

        /// <summary>Enabled, but waiting for settings its schema requires.</summary>
        PendingConfig,

        /// <summary>Unknown or refused at load.</summary>
        NotManageable,
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, EventName = "PluginRefused", Level = LogLevel.Error, Message = "Plugin {PluginId} in {Folder} refused: {Reason}")]
        public static partial void PluginRefused(ILogger logger, string pluginId, string folder, string reason);

        [LoggerMessage(EventId = 1002, EventName = "PluginAnonymousRoutes", Level = LogLevel.Warning, Message = "Plugin {PluginId} {Version} serves {Routes} without authentication, as its manifest declares")]
        public static partial void AnonymousRoutes(ILogger logger, string pluginId, string version, string routes);

        [LoggerMessage(EventId = 1005, EventName = "PluginUnsigned", Level = LogLevel.Warning, Message = "Plugin {PluginId} {Version} in {Folder} is not from a signed bundle; loaded only because PluginHost:AllowUnsignedPlugins is true")]
        public static partial void UnsignedPlugin(ILogger logger, string pluginId, string version, string folder);

        [LoggerMessage(EventId = 1011, EventName = "PluginLimitsOverridden", Level = LogLevel.Information, Message = "Plugin {PluginId} runs with limits the host sets over its manifest's (PluginHost:PluginLimits): {Limits}")]
        public static partial void LimitsOverridden(ILogger logger, string pluginId, string limits);

        [LoggerMessage(EventId = 1012, EventName = "PluginLimitsForNoPlugin", Level = LogLevel.Warning, Message = "PluginHost:PluginLimits names '{PluginId}', which is not installed (installed: {Installed}); its limits apply if a plugin with that id is installed, so check the id for a typo.")]
        public static partial void LimitsForNoPlugin(ILogger logger, string pluginId, string installed);

        [LoggerMessage(EventId = 1015, EventName = "PluginsDirectoryMissing", Level = LogLevel.Warning, Message = "PluginHost:PluginsDirectory '{Directory}' does not exist: the host starts with no plugins from it. Check the path for a typo; a host whose plugins all come through the admin API may leave it to the first install, which makes it")]
        public static partial void PluginsDirectoryMissing(ILogger logger, string directory);

        [LoggerMessage(EventId = 1016, EventName = "TrustedKeyUnreadable", Level = LogLevel.Error, Message = "PluginHost:TrustedKeysDirectory: {Problem} Bundles signed by the key it should hold are refused until it is mended")]
        public static partial void TrustedKeyUnreadable(ILogger logger, string problem);

        [LoggerMessage(EventId = 1003, EventName = "PluginEnabled", Level = LogLevel.Information, Message = "Plugin {PluginId} enabled")]
        public static partial void Enabled(ILogger logger, string pluginId);

        [LoggerMessage(EventId = 1004, EventName = "PluginDisabled", Level = LogLevel.Information, Message = "Plugin {PluginId} disabled")]
        public static partial void Disabled(ILogger logger, string pluginId);
    }
}
