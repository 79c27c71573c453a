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
internal sealed class PluginStartCheck(PluginManifest manifest, IPluginStore store)
{
    public async Task RunAsync(Worker worker, CancellationToken cancellationToken)
    {
        var disagreements = DescribeCheck.Compare(manifest, worker.Description);
        if (disagreements.Count > 0)
        {
            throw Rejected(worker, $"plugin '{manifest.Id}' disagrees with its manifest: {string.Join("; ", disagreements)}. Make the plugin and its plugin.json say the same.");
        }

        var stored = await store.GetSettingsAsync(manifest.Id, string.Empty, cancellationToken).ConfigureAwait(false);
        var reply = await worker.Connection.Plugin.ConfigureAsync(
            new ConfigureRequest { SettingsJson = stored?.Json ?? "{}", Revision = stored?.Revision ?? 0 },
            deadline: DateTime.UtcNow.Add(worker.Spec.Limits.StartTimeout),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!reply.Accepted)
        {
            throw Rejected(worker, $"plugin '{manifest.Id}' rejected its stored settings: {string.Join("; ", reply.Errors.Select(e => $"{e.Path}: {e.Message}"))}. Fix them through the admin API.");
        }
    }

    private static WorkerStartException Rejected(Worker worker, string message) =>
        new(new StartFailure(StartFailureKind.Rejected, message, null, worker.Process.StderrTail.Snapshot()));
}
