using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Protocol;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Hosting;

/// <summary>Validates <see cref="PluginHostOptions"/> at start, reporting every problem at once.</summary>
internal sealed class PluginHostOptionsValidator : IValidateOptions<PluginHostOptions>
{
    public ValidateOptionsResult Validate(string? name, PluginHostOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.PluginsDirectory))
        {
            errors.Add("PluginHost:PluginsDirectory is empty; name the directory that holds one folder per plugin.");
        }

        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            errors.Add("PluginHost:StateDirectory is empty; name a writable directory for the host's store.");
        }

        Positive(errors, nameof(options.StartTimeout), options.StartTimeout);
        Positive(errors, nameof(options.ShutdownGrace), options.ShutdownGrace);
        Positive(errors, nameof(options.RouteTimeout), options.RouteTimeout);
        Positive(errors, nameof(options.RouteIdleTimeout), options.RouteIdleTimeout);
        Positive(errors, nameof(options.WebSocketCloseTimeout), options.WebSocketCloseTimeout);
        Positive(errors, nameof(options.HealthInterval), options.HealthInterval);
        Positive(errors, nameof(options.HealthTimeout), options.HealthTimeout);
        Positive(errors, nameof(options.MemoryCheckInterval), options.MemoryCheckInterval);
        Positive(errors, nameof(options.DataCheckInterval), options.DataCheckInterval);
        Positive(errors, nameof(options.RestartInitialBackoff), options.RestartInitialBackoff);
        Positive(errors, nameof(options.RestartWindow), options.RestartWindow);
        if (options.RestartMaxBackoff < options.RestartInitialBackoff)
        {
            errors.Add($"PluginHost:RestartMaxBackoff ({options.RestartMaxBackoff}) is shorter than RestartInitialBackoff ({options.RestartInitialBackoff}).");
        }

        if (options.HealthFailureThreshold < 1)
        {
            errors.Add($"PluginHost:HealthFailureThreshold is {options.HealthFailureThreshold}; use 1 or more.");
        }

        if (options.HookBreakerTimeouts < 0)
        {
            errors.Add($"PluginHost:HookBreakerTimeouts is {options.HookBreakerTimeouts}; use 0 (never pause) or more.");
        }

        Positive(errors, nameof(options.HookBreakerPause), options.HookBreakerPause);
        Positive(errors, nameof(options.StagedBundleLifetime), options.StagedBundleLifetime);
        if (options.ReloadOnChange && !options.AllowUnsignedPlugins)
        {
            errors.Add("PluginHost:ReloadOnChange is for a development host, which loads unsigned folders (PluginHost:AllowUnsignedPlugins=true); a production host installs signed bundles. Turn one on, or ReloadOnChange off.");
        }

        RollbackWindow(errors, nameof(options.RollbackOnCrashLoopWithin), options.RollbackOnCrashLoopWithin);
        RollbackWindow(errors, nameof(options.RollbackOnHookPauseWithin), options.RollbackOnHookPauseWithin);
        RollbackWindow(errors, nameof(options.RollbackOnCallFailuresWithin), options.RollbackOnCallFailuresWithin);
        if (options.CallFailuresToRollBack < 1)
        {
            errors.Add($"PluginHost:CallFailuresToRollBack is {options.CallFailuresToRollBack}; use 1 or more (5 by default), or turn RollbackOnCallFailuresWithin off (00:00:00).");
        }

        try
        {
            // Loaded here as well as at the launcher's making, so a wrong file is among the start's errors.
            options.Attach.Load()?.Certificate.Dispose();
        }
        catch (InvalidOperationException ex)
        {
            errors.Add(ex.Message);
        }

        options.Attach.Callback(errors);
        options.Store.Check(errors);

        if (options.MaxRestarts < 0)
        {
            errors.Add($"PluginHost:MaxRestarts is {options.MaxRestarts}; use 0 or more.");
        }

        if (options.DefaultMemoryLimitMiB < 16)
        {
            errors.Add($"PluginHost:DefaultMemoryLimitMiB is {options.DefaultMemoryLimitMiB}; use 16 or more.");
        }

        if (options.DefaultMaxThreads is < 0 or (> 0 and < 16))
        {
            errors.Add($"PluginHost:DefaultMaxThreads is {options.DefaultMaxThreads}; use 16 or more (threads of a worker's whole process group), or 0 for no limit.");
        }

        if (options.DefaultCpus is < 0 or > PluginLimitsOptions.MostCpus || double.IsNaN(options.DefaultCpus))
        {
            errors.Add($"PluginHost:DefaultCpus is {options.DefaultCpus}; use the cores' worth of CPU time a worker may use (0.5: half a core; at most {PluginLimitsOptions.MostCpus}), or 0 for no limit.");
        }

        foreach (var (id, limits) in options.PluginLimits)
        {
            limits.Check(field => $"PluginHost:PluginLimits:{id}:{char.ToUpperInvariant(field[0])}{field[1..]}", errors);
        }

        if (options.MinFreeDiskMiB < 0)
        {
            errors.Add($"PluginHost:MinFreeDiskMiB is {options.MinFreeDiskMiB}; use 0 (never warn) or more.");
        }

        if (options.DefaultDataLimitMiB < 0)
        {
            errors.Add($"PluginHost:DefaultDataLimitMiB is {options.DefaultDataLimitMiB}; use 0 (no limit) or more.");
        }

        var scope = options.DefaultTenantScope;
        if (scope.Mode == Hooks.Tenancy.TenantScopeMode.All && scope.Tenants.Count > 0)
        {
            errors.Add("PluginHost:DefaultTenantScope lists tenants with Mode All, which takes every tenant; use Mode Only or Except with them, or leave Tenants out.");
        }

        if (scope.Tenants.Count > Hooks.Tenancy.TenantScopeJson.MaxTenants)
        {
            errors.Add($"PluginHost:DefaultTenantScope lists {scope.Tenants.Count} tenants; a scope takes at most {Hooks.Tenancy.TenantScopeJson.MaxTenants}.");
        }

        foreach (var tenant in scope.Tenants)
        {
            if (Settings.TenantId.Problem(tenant) is { } problem)
            {
                errors.Add($"PluginHost:DefaultTenantScope: '{tenant}': {problem}");
            }
        }

        if (options.MaxConcurrentCallsPerPlugin < 1)
        {
            errors.Add($"PluginHost:MaxConcurrentCallsPerPlugin is {options.MaxConcurrentCallsPerPlugin}; use 1 or more.");
        }

        if (options.RuntimeDirectory is { Length: > 0 } runtime && !HostRuntimeDirectory.FitsSocketPaths(runtime))
        {
            errors.Add($"PluginHost:RuntimeDirectory '{runtime}' is too long for the sockets under it: a Unix socket path has at most 107 bytes, which leaves {HostRuntimeDirectory.MaxParentBytes} for this directory. Use a shorter one, or leave it out to use $XDG_RUNTIME_DIR or /tmp.");
        }

        if (options.WorkerNice is < 0 or > 19)
        {
            errors.Add($"PluginHost:WorkerNice is {options.WorkerNice}; use 0 (the host's priority) to 19 (the lowest): a worker may not be given priority over its host.");
        }

        errors.AddRange(Auth.AdminKeySet.Problems(options));
        if (options.AdminKeyFailuresAllowed < 1)
        {
            errors.Add($"PluginHost:AdminKeyFailuresAllowed is {options.AdminKeyFailuresAllowed}; use 1 or more.");
        }

        Positive(errors, nameof(options.AdminKeyLockout), options.AdminKeyLockout);
        if (options.AuditEntriesKept < 100)
        {
            errors.Add($"PluginHost:AuditEntriesKept is {options.AuditEntriesKept}; use 100 or more: an audit trail that forgets the last hundred actions cannot answer who did what.");
        }

        if (options.MaxBundleBytes < 1)
        {
            errors.Add($"PluginHost:MaxBundleBytes is {options.MaxBundleBytes}; use 1 or more.");
        }

        if (options.MaxBundleExpandedBytes < 1)
        {
            errors.Add($"PluginHost:MaxBundleExpandedBytes is {options.MaxBundleExpandedBytes}; use 1 or more.");
        }

        if (options.MaxBundleEntries < 1)
        {
            errors.Add($"PluginHost:MaxBundleEntries is {options.MaxBundleEntries}; use 1 or more.");
        }

        if (options.MaxHostConnectionsPerPlugin < 1)
        {
            errors.Add($"PluginHost:MaxHostConnectionsPerPlugin is {options.MaxHostConnectionsPerPlugin}; use 1 or more (a plugin calls the host over one connection).");
        }

        if (options.SettingsWritesPerSecond < 0)
        {
            errors.Add($"PluginHost:SettingsWritesPerSecond is {options.SettingsWritesPerSecond}; use 0 (no pacing) or more.");
        }

        if (options.SettingsWritesPerSecond > 0 && options.SettingsWriteBurst < 1)
        {
            errors.Add($"PluginHost:SettingsWriteBurst is {options.SettingsWriteBurst}; use 1 or more (a plugin must be able to write once), or set SettingsWritesPerSecond to 0 to turn pacing off.");
        }

        if (options.MaxSettingsBytes < 2)
        {
            errors.Add($"PluginHost:MaxSettingsBytes is {options.MaxSettingsBytes}; use 2 or more (the empty settings, {{}}, take 2).");
        }

        if (options.MaxSettingsTenants < 0)
        {
            errors.Add($"PluginHost:MaxSettingsTenants is {options.MaxSettingsTenants}; use 0 (plugin-wide settings only) or more.");
        }

        if (options.MaxSettingsBytesPerPlugin < options.MaxSettingsBytes)
        {
            errors.Add($"PluginHost:MaxSettingsBytesPerPlugin ({options.MaxSettingsBytesPerPlugin}) is less than MaxSettingsBytes ({options.MaxSettingsBytes}); one document must fit.");
        }

        if (options.MaxWebSocketMessageBytes < 1)
        {
            errors.Add($"PluginHost:MaxWebSocketMessageBytes is {options.MaxWebSocketMessageBytes}; use 1 or more (the default is 1048576).");
        }

        if (options.MaxWebSocketsPerPlugin < 1)
        {
            errors.Add($"PluginHost:MaxWebSocketsPerPlugin is {options.MaxWebSocketsPerPlugin}; use 1 or more (the default is 1000).");
        }

        if (options.MaxRequestBodyBytes < 0)
        {
            errors.Add($"PluginHost:MaxRequestBodyBytes is {options.MaxRequestBodyBytes}; use 0 or more.");
        }

        foreach (var variable in options.WorkerEnvironment.Keys)
        {
            if (string.IsNullOrWhiteSpace(variable) || variable.Contains('=', StringComparison.Ordinal))
            {
                errors.Add($"PluginHost:WorkerEnvironment has an empty variable name or one with '=' ('{variable}'); give each variable a name without '='.");
            }
            else if (variable.StartsWith(HandshakeEnvironment.Prefix, StringComparison.Ordinal))
            {
                errors.Add($"PluginHost:WorkerEnvironment sets '{variable}', but {HandshakeEnvironment.Prefix}* variables are the handshake's, which the host sets for each worker; remove it.");
            }
        }

        foreach (var prefix in options.WorkerEnvironmentWithheld)
        {
            if (string.IsNullOrWhiteSpace(prefix) || prefix.Contains('=', StringComparison.Ordinal))
            {
                errors.Add($"PluginHost:WorkerEnvironmentWithheld has an empty prefix or one with '=' ('{prefix}'), which would withhold every variable or none; name the start of the variables to withhold, such as 'ConnectionStrings__'.");
            }
            else if (prefix.StartsWith(HandshakeEnvironment.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"PluginHost:WorkerEnvironmentWithheld names '{prefix}', but {HandshakeEnvironment.Prefix}* variables are the handshake's, which the host sets for each worker; remove it.");
            }
        }

        foreach (var duplicate in options.HookPoints.GroupBy(p => p.Name).Where(g => g.Count() > 1))
        {
            errors.Add($"hook point '{duplicate.Key}' is declared {duplicate.Count()} times; declare each once.");
        }

        if (options.PluginRouteHooks is { } routeHooks && EndpointHookConventions.Problem(routeHooks) is { } hooksProblem)
        {
            errors.Add($"PluginHost:PluginRouteHooks: {hooksProblem}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void RollbackWindow(List<string> errors, string name, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            errors.Add($"PluginHost:{name} is {value}; use 00:00:00 (never roll back by itself) or a positive time such as 00:30:00.");
        }
    }

    private static void Positive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"PluginHost:{name} is {value}; use a positive duration such as 00:00:05.");
        }
    }
}
