using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Host.Registry;

/// <summary>Starting a plugin only once the plugins it depends on serve.</summary>
internal sealed partial class PluginLifecycle
{
    /// <summary>Starts <paramref name="entry"/> once its dependencies are Ready, without waiting for it here; stopping the host awaits it.</summary>
    private Task StartLater(PluginEntry entry, IReadOnlyList<StartedDependency> dependencies)
    {
        _states[entry.Id] = (LifecycleState.Active, $"waiting for its dependencies to be Ready: {string.Join(", ", dependencies.Select(d => d.Supervisor.PluginId))}");
        var start = StartAfterDependenciesAsync(entry, dependencies, _stopping.Token);
        _dependentStarts.Enqueue(start);
        return start;
    }

    /// <summary>
    /// Waits for each dependency's own start and then for it to be Ready (at most
    /// twice its start timeout, which covers one failed attempt and its retry),
    /// then starts <paramref name="entry"/>. A dependency that does not get there
    /// is named in a warning and the plugin starts anyway: its calls to the
    /// dependency fail on their own terms, and an admin sees both states.
    /// </summary>
    private async Task StartAfterDependenciesAsync(PluginEntry entry, IReadOnlyList<StartedDependency> dependencies, CancellationToken stopping)
    {
        try
        {
            Log.WaitingForDependencies(_logger, entry.Id, string.Join(", ", dependencies.Select(d => d.Supervisor.PluginId)));
            foreach (var (started, supervisor) in dependencies)
            {
                await started.WaitAsync(stopping).ConfigureAwait(false);
                if (StateOf(supervisor.PluginId).State != LifecycleState.Active)
                {
                    // Pending configuration or disabled: nothing will become Ready to wait for.
                    Log.DependencyNotReady(_logger, entry.Id, supervisor.PluginId, StateOf(supervisor.PluginId).State.ToString());
                    continue;
                }

                var snapshot = await supervisor.WhenReadyOrSettledAsync(supervisor.Spec.Limits.StartTimeout * 2, stopping).ConfigureAwait(false);
                if (snapshot.State != WorkerState.Ready)
                {
                    Log.DependencyNotReady(_logger, entry.Id, supervisor.PluginId, snapshot.State.ToString());
                }
            }

            if (catalog.Find(entry.Id) != entry)
            {
                // Uninstalled or upgraded while it waited: that entry's supervisor is gone.
                return;
            }

            await ActivateAsync(entry, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The host is stopping before the dependencies were Ready: nothing to start.
        }
        catch (Exception ex)
        {
            // Nobody awaits this start but StopAllAsync; the failure is logged and shown here.
            Log.DependentStartFailed(_logger, entry.Id, ex);
            _states[entry.Id] = (LifecycleState.Refused, $"start failed: {ex.Message}");
            events.Record(entry.Id, "start-failed", ex.Message);
        }
    }

    /// <summary>A dependency's own start (it may itself wait) and its supervisor.</summary>
    private sealed record StartedDependency(Task Started, PluginSupervisor Supervisor);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1006, EventName = "PluginWaitingForDependencies", Level = LogLevel.Information, Message = "Plugin {PluginId} starts once {Dependencies} are Ready")]
        public static partial void WaitingForDependencies(ILogger logger, string pluginId, string dependencies);

        [LoggerMessage(EventId = 1007, EventName = "PluginDependencyNotReady", Level = LogLevel.Warning, Message = "Plugin {PluginId} starts although its dependency {Dependency} is {State}")]
        public static partial void DependencyNotReady(ILogger logger, string pluginId, string dependency, string state);

        [LoggerMessage(EventId = 1008, EventName = "PluginDependentStartFailed", Level = LogLevel.Error, Message = "Plugin {PluginId} could not be started after its dependencies")]
        public static partial void DependentStartFailed(ILogger logger, string pluginId, Exception exception);
    }
}
