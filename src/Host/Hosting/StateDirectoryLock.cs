using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// Makes the state directory this host's alone while it runs. Without it a second host
/// started on the same directory (a second `make run`, two instances of one service) took
/// the first's running workers in the ledger for a killed host's leftovers and killed them,
/// then shared its store file and plugins' data. The lock is taken before any other of the
/// plugin host's services starts, and let go once they have all stopped.
/// </summary>
internal sealed class StateDirectoryLock(IOptions<PluginHostOptions> options, TimeProvider time) : IHostedLifecycleService, IDisposable
{
    private HeldFileLock? _held;

    private string Directory => Path.GetFullPath(options.Value.StateDirectory);

    private string LockFile => Path.Combine(Directory, "host.lock");

    // The lock file cannot be read while held, so who holds it is written beside it.
    private string HolderFile => Path.Combine(Directory, "host.holder");

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        _held = HeldFileLock.TryTake(LockFile) ?? throw new InvalidOperationException(
            $"PluginHost:StateDirectory '{Directory}' is in use by another host ({Holder()}). Two hosts on one state directory would each take the other's running workers for leftovers to kill, and share one store file. Stop the other host, or give this one a PluginHost:StateDirectory of its own (host replicas share a PostgreSQL store, never a state directory).");
        File.WriteAllText(HolderFile, string.Create(CultureInfo.InvariantCulture, $"pid {Environment.ProcessId} on {Environment.MachineName}, since {time.GetUtcNow():u}"));
        return Task.CompletedTask;
    }

    private string Holder()
    {
        try
        {
            return File.ReadAllText(HolderFile).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "it has not said which";
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        // Every worker is stopped by now: the next host may take the directory.
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _held?.Dispose();
        _held = null;
    }
}
