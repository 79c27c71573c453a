using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// Makes the state directory this host's alone while it runs. Without it a second host
/// started on the same directory (a second `make run`, two instances of one service) took
/// the first's running workers in the ledger for a killed host's leftovers and killed them,
/// then shared its store file and plugins' data. Taken when first needed: whatever opens
/// the store, the key ring or the ledger asks for <see cref="Root"/> through this. Let go
/// once every hosted service has stopped, or when disposed.
/// </summary>
internal sealed partial class StateDirectoryLock : IHostedLifecycleService, IDisposable
{
    private const UnixFileMode OthersAccess = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private HeldFileLock? _held;

    public StateDirectoryLock(IOptions<PluginHostOptions> options, TimeProvider time, ILogger<StateDirectoryLock> logger)
    {
        Root = Path.GetFullPath(options.Value.StateDirectory);
        // Its settings, audit trail and plugins' data are no other user's to read; a directory the admin made keeps its mode,
        // which the log then questions, once a start, since it may be meant (a group the host's operators share).
        Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var mode = File.GetUnixFileMode(Root);
        if ((mode & OthersAccess) is not 0 and var open)
        {
            Log.StateDirectoryOpen(logger, Root, Convert.ToString((int)mode, 8), open.HasFlag(UnixFileMode.OtherRead) || open.HasFlag(UnixFileMode.OtherExecute) ? "every user of the machine" : "its group");
        }

        _held = HeldFileLock.TryTake(Path.Combine(Root, "host.lock")) ?? throw new InvalidOperationException(
            $"PluginHost:StateDirectory '{Root}' is in use by another host ({Holder()}). Two hosts on one state directory would each take the other's running workers for leftovers to kill, and share one store file. Stop the other host, or give this one a PluginHost:StateDirectory of its own (host replicas share a PostgreSQL store, never a state directory).");
        File.WriteAllText(HolderFile, string.Create(CultureInfo.InvariantCulture, $"pid {Environment.ProcessId} on {Environment.MachineName}, since {time.GetUtcNow():u}"));
    }

    /// <summary>The state directory, full path; held by this host.</summary>
    public string Root { get; }

    /// <summary>
    /// This host among others, the same across its restarts: its state directory, which no two
    /// live hosts share, hashed short. It names the host's worker cgroups, so that its next start
    /// removes its own leftovers there and never another host's running workers.
    /// </summary>
    public string HostTag => TagOf(Root);

    /// <summary>The tag of the host whose state directory is <paramref name="root"/> (a full path).</summary>
    public static string TagOf(string root) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root)))[..8];

    // The lock file cannot be read while held, so who holds it is written beside it.
    private string HolderFile => Path.Combine(Root, "host.holder");

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

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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

    private static partial class Log
    {
        [LoggerMessage(EventId = 1017, EventName = "StateDirectoryOpen", Level = LogLevel.Warning, Message = "PluginHost:StateDirectory {Directory} (mode {Mode}) is open to {Whom}: its store holds every plugin's settings and the audit trail. Run `chmod 700 {Directory}` unless that is meant; the host makes the directory 0700 when it creates it")]
        public static partial void StateDirectoryOpen(ILogger logger, string directory, string mode, string whom);
    }
}
