using System.Diagnostics.Metrics;
using GrpcPlugins.Host.Admin;
using GrpcPlugins.Host.Auth;
using GrpcPlugins.Host.Callback;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Health;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Host.Replicas;
using GrpcPlugins.Host.Routes;
using GrpcPlugins.Host.Settings;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace GrpcPlugins.Host.Hosting;

/// <summary>Registers the plugin host in an ASP.NET Core application.</summary>
public static class PluginHostServiceCollectionExtensions
{
    /// <summary>
    /// Adds the plugin host: options (section "PluginHost", validated at start),
    /// the supervisors, the hook dispatcher (<see cref="IHookDispatcher"/>), the
    /// route forwarder, the settings store, and the admin key's policies for the admin API
    /// (<see cref="PluginHostPolicies.Admin"/>) and plugin routes (<see cref="PluginHostPolicies.Routes"/>),
    /// unless the application defines them. Map the endpoints with
    /// <see cref="PluginEndpointRouteBuilderExtensions.MapPluginEndpoints"/>.
    /// </summary>
    public static IServiceCollection AddPluginHost(this IServiceCollection services, Action<PluginHostOptions>? configure = null)
    {
        var options = services.AddOptions<PluginHostOptions>().BindConfiguration(PluginHostOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<PluginHostOptions>, PluginHostOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        services.AddSingleton<HostRuntimeDirectory>();
        services.AddSingleton<PluginCatalog>();
        services.AddSingleton<TokenRegistry>();
        services.AddSingleton<StateDirectoryLock>();
        services.AddSingleton(sp => new WorkerLedger(Path.Combine(sp.GetRequiredService<StateDirectoryLock>().Root, "workers.ledger")));
        services.AddPluginStore();
        services.AddSingleton(sp => new WorkerLauncher(
            new LaunchSettings(
                sp.GetRequiredService<HostRuntimeDirectory>().Path,
                "unix://" + sp.GetRequiredService<HostRuntimeDirectory>().CallbackSocket,
                [1],
                "GrpcPlugins.Host/" + typeof(PluginHostServiceCollectionExtensions).Assembly.GetName().Version?.ToString(3),
                sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.MemoryCgroupDirectory is { Length: > 0 } cgroup ? MemoryCgroup.Open(cgroup) : null,
                sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.WorkerNice,
                sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.Attach.Load(),
                sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.Attach.Callback([])?.Address,
                new StartLimitChecks(sp.GetRequiredService<ProcessGroupSampler>(), sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.MemoryCheckInterval),
                sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.PidsCgroupDirectory is { Length: > 0 } pids ? WorkerPidsCgroup.OpenParent(pids) : null,
                sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.CpuCgroupDirectory is { Length: > 0 } cpu ? WorkerCpuCgroup.OpenParent(cpu) : null,
                [.. PluginHostOptions.AlwaysWithheld, .. sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.WorkerEnvironmentWithheld],
                sp.GetRequiredService<StateDirectoryLock>().HostTag),
            sp.GetRequiredService<TokenRegistry>(),
            sp.GetRequiredService<WorkerLedger>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        // A pass over /proc may answer watchdogs for a fifth of their interval.
        services.AddSingleton(sp => new ProcessGroupSampler(
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.MemoryCheckInterval / 5));
        services.AddSingleton<PluginLifecycle>();
        services.AddSingleton<DescribedSchemas>();
        services.AddSingleton<StoredSecretsSealing>();
        services.AddSingleton<LifecycleEvents>();
        services.AddSingleton<Audit.AuditTrail>();
        services.AddSingleton<AdminKeys>();
        services.AddSingleton<AdminKeyGuard>();
        services.AddSingleton<AdminKeyVerifier>();
        services.AddSingleton<StagedBundles>();
        services.AddSingleton<KeptBundles>();
        services.AddSingleton<UpgradeWatch>();
        services.AddSingleton<CallFailureRuns>();
        services.AddSingleton<PluginInstaller>();
        services.AddSingleton<InstallChecks>();
        services.AddSingleton<VersionSwitch>();
        services.AddSingleton<SettingsValidator>();
        services.AddSingleton<StoredSettingsCheck>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.SettingsLimits);
        services.AddSingleton<SettingsService>();
        services.AddSingleton<SettingsCatchUp>();
        services.AddSingleton<Callback.SettingsWritePace>();
        services.AddSingleton<CallStats>();
        services.AddSingleton<CallFailureReporter>();
        services.AddSingleton<PluginMetrics>();
        services.AddSingleton<Hooks.Breaker.HookBreakers>();
        services.AddSingleton<Hooks.Tenancy.TenantScopes>();
        services.AddSingleton<CatalogHookTargets>();
        services.AddSingleton<IHookTargets>(s => s.GetRequiredService<CatalogHookTargets>());
        services.AddSingleton<IHookDispatcher, HookDispatcher>();
        services.AddSingleton<Hooks.Endpoints.EndpointHookServices>();
        services.AddSingleton<PluginRouteForwarder>();
        services.AddSingleton<Routes.WebSockets.OpenWebSockets>();
        services.AddSingleton<Routes.WebSockets.PluginWebSocketRelay>();
        services.AddSingleton<PulledBodies>();
        services.AddSingleton<PluginViewFactory>();
        services.AddSingleton<Admin.HookPointViewFactory>();
        services.AddSingleton<PluginHealthRegistrations>();
        services.AddHealthChecks()
            .AddCheck("host", () => HealthCheckResult.Healthy("serving"))
            .AddCheck<Health.StateDiskHealthCheck>(Health.StateDiskHealthCheck.Name)
            .AddCheck<Health.CallbackSocketHealthCheck>(Health.CallbackSocketHealthCheck.Name)
            .Add(new HealthCheckRegistration(
                Replicas.SharedStoreHealthCheck.Name,
                sp => sp.GetRequiredService<IOptions<PluginHostOptions>>().Value.Store.IsShared
                    ? ActivatorUtilities.CreateInstance<Replicas.SharedStoreHealthCheck>(sp)
                    : new Replicas.NoSharedStore(),
                failureStatus: null,
                tags: null));
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(PluginMetrics.MeterName)
            .AddPrometheusExporter());
        services.ConfigureOpenTelemetryMeterProvider((sp, metrics) => metrics.AddView(OwnMetersOnly.View(sp.GetRequiredService<IMeterFactory>())));

        // Last to stop: the next host may take the state directory once every worker has stopped.
        services.AddHostedService(sp => sp.GetRequiredService<StateDirectoryLock>());
        // The shared store's tables must exist before anything reads them, and its notices be
        // heard before the first plugin starts with what it read.
        services.AddHostedService<Replicas.StoreChangeListener>();
        // The callback server must listen before the first worker starts and may call it.
        services.AddSingleton<CallbackServer>();
        services.AddHostedService(sp => sp.GetRequiredService<CallbackServer>());
        services.AddSingleton<CallbackSocketWatch>();
        services.AddHostedService(sp => sp.GetRequiredService<CallbackSocketWatch>());
        services.AddHostedService<PluginHostedService>();
        // After the plugins load: a change is a reload of a plugin that runs.
        services.AddSingleton<FolderReloads>();
        services.AddHostedService(sp => sp.GetRequiredService<FolderReloads>());

        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        // Defined only where the application has not: its own definition wins whether it comes
        // before AddPluginHost or after it (a later AddPolicy replaces this one).
        services.AddAuthorization();
        services.Configure<AuthorizationOptions>(o =>
        {
            foreach (var name in (ReadOnlySpan<string>)[PluginHostPolicies.Admin, PluginHostPolicies.Routes])
            {
                if (o.GetPolicy(name) is null)
                {
                    o.AddPolicy(name, policy => policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser().RequireAssertion(AdminAccess.Allows));
                }
            }
        });
        return services;
    }
}
