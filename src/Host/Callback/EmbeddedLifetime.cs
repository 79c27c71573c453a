using Microsoft.Extensions.Hosting;

namespace GrpcPlugins.Host.Callback;

/// <summary>
/// The callback server's lifetime inside the host: the host starts and stops it. The default
/// console lifetime also took Ctrl+C and SIGTERM for itself, and printed "Application started.
/// Press Ctrl+C to shut down." and the working directory as its content root beside the host's own.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
