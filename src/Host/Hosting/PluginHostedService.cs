using GrpcPlugins.Host.Registry;
using Microsoft.Extensions.Hosting;

namespace GrpcPlugins.Host.Hosting;

/// <summary>Starts the plugins with the host and stops them all, in parallel, when it stops.</summary>
internal sealed class PluginHostedService(PluginLifecycle lifecycle, HostRuntimeDirectory runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => lifecycle.LoadAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await lifecycle.StopAllAsync().ConfigureAwait(false);
        runtime.Dispose();
    }
}
