using GrpcPlugins.Host.Settings;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Workers;

namespace GrpcPlugins.Host.Registry;

/// <summary>
/// What the host checks once a worker answered Describe, before it serves a
/// call: that it agrees with its manifest, and that it accepts its stored
/// settings. A failure refuses the start with the evidence.
/// </summary>
internal sealed class PluginStartCheck(PluginManifest manifest, IPluginStore store, DescribedSchemas kept, DescribedSettingsSchema described)
{
    /// <summary>
    /// The revision of each scope the last start configured the worker with: a write committed
    /// after the start read the store, while no worker was Ready to be offered it, is caught up
    /// once the worker is (<see cref="Settings.SettingsCatchUp"/>).
    /// </summary>
    public IReadOnlyDictionary<string, long> Configured { get; private set; } = new Dictionary<string, long>();

    public async Task RunAsync(Worker worker, CancellationToken cancellationToken)
    {
        var disagreements = DescribeCheck.Compare(manifest, worker.Description);
        if (disagreements.Count > 0)
        {
            throw Rejected(worker, $"plugin '{manifest.Id}' disagrees with its manifest: {string.Join("; ", disagreements)}. Make the plugin and its plugin.json say the same.");
        }

        // A schema only Describe publishes is checked here, as a manifest's is when it is read.
        if (manifest.SettingsSchema is null && worker.Description.SettingsSchemaJson is { Length: > 0 } published
            && SettingsValidator.Problems(published, "settings_schema_json") is { Count: > 0 } problems)
        {
            throw Rejected(worker, $"plugin '{manifest.Id}' published a settings schema in Describe that the host cannot use: {string.Join(" ", problems)}");
        }

        await kept.KeepAsync(manifest, described, worker.Description.SettingsSchemaJson, cancellationToken).ConfigureAwait(false);

        // The plugin-wide settings always ("{}" when none), then every tenant's.
        var all = await store.GetAllSettingsAsync(manifest.Id, cancellationToken).ConfigureAwait(false);
        var pushes = all.Any(s => s.TenantId.Length == 0) ? all : [(string.Empty, new StoredSettings("{}", 0, DateTimeOffset.MinValue)), .. all];
        foreach (var (tenant, settings) in pushes)
        {
            var reply = await worker.Connection.Plugin.ConfigureAsync(
                new ConfigureRequest { TenantId = tenant, SettingsJson = settings.Json, Revision = settings.Revision },
                deadline: DateTime.UtcNow.Add(worker.Spec.Limits.StartTimeout),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!reply.Accepted)
            {
                var scope = tenant.Length == 0 ? "plugin-wide" : $"tenant '{tenant}'";
                throw Rejected(worker, $"plugin '{manifest.Id}' rejected its stored {scope} settings: {string.Join("; ", reply.Errors.Select(e => $"{e.Path}: {e.Message}"))}. Fix them through the admin API.");
            }
        }

        Configured = pushes.ToDictionary(p => p.Item1, p => p.Item2.Revision, StringComparer.Ordinal);
    }

    private static WorkerStartException Rejected(Worker worker, string message) =>
        new(new StartFailure(StartFailureKind.Rejected, message, null, worker.Process.StderrTail.Snapshot()));
}
