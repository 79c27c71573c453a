using System.Threading.Channels;
using GrpcPlugins.Host.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// With a shared store: creates its tables before anything reads them (waiting up to
/// <see cref="StoreOptions.ConnectTimeout"/> for the database), then listens for the other
/// replicas' changes on one connection of its own. The notices are applied off the
/// connection's loop, each plugin's in commit order in a queue of its own
/// (<see cref="PluginChangeQueues"/>), so a plugin slow to take its settings holds neither the
/// next notice's arrival nor another plugin's change. A lost connection is retried with
/// backoff; once back, everything a missed notice could have said is read again.
/// </summary>
internal sealed partial class StoreChangeListener(
    IOptions<PluginHostOptions> options,
    IServiceProvider services,
    ReplicaLink link,
    IHostApplicationLifetime lifetime,
    ILogger<StoreChangeListener> logger,
    TimeProvider time) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    // How long a wait for notices lasts before the connection is checked: a dead peer sends no
    // error, and this replica would otherwise go deaf without knowing.
    private static readonly TimeSpan Liveness = TimeSpan.FromSeconds(15);

    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<Work> _changes = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private Task _listening = Task.CompletedTask;
    private Task _applying = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Store.IsShared)
        {
            return;
        }

        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var connection = await ConnectAtStartAsync(dataSource, cancellationToken).ConfigureAwait(false);
        link.Up();
        Log.Listening(logger, dataSource.ConnectionString is { } cs ? new NpgsqlConnectionStringBuilder(cs).Host ?? "?" : "?");
        if (options.Value.Store.KeyRingCertificatePath is not { Length: > 0 })
        {
            Log.KeyRingInClear(logger);
        }

        _applying = ApplyAsync(_stopping.Token);
        _listening = ListenAsync(dataSource, connection, _stopping.Token);
        // Once this replica's own plugins are loaded: what admins installed or uninstalled on the
        // others while it was not running (a new pod has none of it yet).
        lifetime.ApplicationStarted.Register(() => _changes.Writer.TryWrite(new Work(null, InstallsOnly: true)));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _changes.Writer.TryComplete();
        await Task.WhenAll(_listening, _applying).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task<NpgsqlConnection> ConnectAtStartAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var limit = options.Value.Store.ConnectTimeout;
        var started = time.GetTimestamp();
        var attempt = 0;
        while (true)
        {
            try
            {
                await PostgresSchema.EnsureAsync(dataSource, cancellationToken).ConfigureAwait(false);
                return await OpenListeningAsync(dataSource, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                var problem = StoreConnectProblem.Of(ex);
                if (problem.Lasting)
                {
                    throw new InvalidOperationException($"The host cannot use its PostgreSQL store (PluginHost:Store:PostgreSqlConnectionString): {problem.Said}", ex);
                }

                if (time.GetElapsedTime(started) >= limit)
                {
                    throw new InvalidOperationException($"The host cannot reach its PostgreSQL store (PluginHost:Store:PostgreSqlConnectionString) after {limit.TotalSeconds:0.#} s: {problem.Said}", ex);
                }

                if (attempt++ == 0)
                {
                    Log.Waiting(logger, ex.Message, limit);
                }

                await Task.Delay(Backoff(attempt), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<NpgsqlConnection> OpenListeningAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            connection.Notification += (_, e) => _changes.Writer.TryWrite(new Work(StoreChange.FromPayload(e.Payload) ?? Unreadable(e.Payload)));
            await using var command = new NpgsqlCommand($"LISTEN {StoreChange.Channel}", connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private StoreChange? Unreadable(string payload)
    {
        Log.UnreadableNotice(logger, payload.Length > 200 ? payload[..200] : payload);
        return null;
    }

    private async Task ListenAsync(NpgsqlDataSource dataSource, NpgsqlConnection connection, CancellationToken stopping)
    {
        var attempt = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using (connection)
                {
                    while (true)
                    {
                        if (!await connection.WaitAsync(Liveness, stopping).ConfigureAwait(false))
                        {
                            await using var ping = new NpgsqlCommand("SELECT 1", connection);
                            await ping.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                link.Down(ex.Message, time.GetUtcNow());
                services.GetRequiredService<Calls.PluginMetrics>().ReplicaLinkLosses.Add(1);
                Log.Lost(logger, ex.Message);
            }

            // Back: listening first, then reading again what the notices of the gap would have said.
            while (true)
            {
                try
                {
                    await Task.Delay(Backoff(++attempt), time, stopping).ConfigureAwait(false);
                    connection = await OpenListeningAsync(dataSource, stopping).ConfigureAwait(false);
                    break;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
                {
                    link.Down(ex.Message, link.LostAt ?? time.GetUtcNow());
                }
            }

            attempt = 0;
            link.Up();
            Log.Regained(logger);
            _changes.Writer.TryWrite(new Work(null));
        }
    }

    /// <summary>
    /// Hands each notice to its plugin's queue, in commit order; a request to read everything
    /// again goes to every plugin's queue behind what it already has.
    /// </summary>
    private async Task ApplyAsync(CancellationToken stopping)
    {
        var changes = services.GetRequiredService<ReplicaChanges>();
        var follower = services.GetRequiredService<InstallFollower>();
        var shared = services.GetRequiredService<ISharedBundles>();
        var origin = services.GetRequiredService<PostgresPluginStore>().Origin;
        var counted = services.GetRequiredService<Calls.PluginMetrics>().ReplicaChanges;
        var events = services.GetRequiredService<Registry.LifecycleEvents>();
        var catalog = services.GetRequiredService<Registry.PluginCatalog>();
        var unfollowed = services.GetRequiredService<UnfollowedInstalls>();
        var queues = new PluginChangeQueues();
        using var retries = new FollowRetries(options.Value.Store.FollowRetryInterval, time, unfollowed, id => _changes.Writer.TryWrite(new Work(null, FollowAgain: id)));
        try
        {
            await foreach (var work in _changes.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                if (work.Change is { } change)
                {
                    if (change.Origin != origin)
                    {
                        var follows = change.Kind is StoreChangeKind.Installed or StoreChangeKind.Uninstalled;
                        queues.Enqueue(change.PluginId, () => RunAsync(change.Kind.ToString(), change.PluginId, follows, ct => changes.ApplyAsync(change, ct)));
                    }

                    continue;
                }

                if (work.FollowAgain is { } again)
                {
                    queues.Enqueue(again, () => RunAsync("Retry", again, follows: true, ct => follower.FollowAsync(again, ct)));
                    continue;
                }

                var kind = work.InstallsOnly ? "Start" : "Resync";
                if (work.InstallsOnly)
                {
                    // Uploads no replica installed in time would otherwise wait for the next upload to go.
                    await RunAsync("Sweep", "staged bundles", follows: false, ct => shared.SweepStagedAsync(options.Value.StagedBundleLifetime, ct)).ConfigureAwait(false);
                }

                // A start follows every row, read at once; a resync reads each plugin afresh in its turn.
                var pending = new List<(string Id, Func<CancellationToken, Task> Apply)>();
                try
                {
                    if (work.InstallsOnly)
                    {
                        foreach (var wanted in await shared.ListAsync(stopping).ConfigureAwait(false))
                        {
                            pending.Add((wanted.PluginId, ct => follower.FollowAsync(wanted, ct)));
                        }
                    }
                    else
                    {
                        foreach (var id in await changes.PluginsToResyncAsync(stopping).ConfigureAwait(false))
                        {
                            pending.Add((id, ct => changes.ResyncAsync(id, ct)));
                        }
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    counted.Add(1, new("kind", kind), new("outcome", "failed"));
                    Log.ApplyFailed(logger, kind, "every plugin", ex);
                    continue;
                }

                foreach (var (id, apply) in pending)
                {
                    queues.Enqueue(id, () => RunAsync(kind, id, follows: true, apply));
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }

        await queues.DrainAsync().ConfigureAwait(false);

        async Task RunAsync(string kind, string pluginId, bool follows, Func<CancellationToken, Task> apply)
        {
            try
            {
                var before = follows ? catalog.Find(pluginId)?.Folder : null;
                await apply(stopping).ConfigureAwait(false);
                counted.Add(1, new("kind", kind), new("outcome", "applied"));
                if (follows)
                {
                    retries.Followed(pluginId);
                    if (catalog.Find(pluginId)?.Folder != before)
                    {
                        retries.TryAllNow();
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
            catch (FollowRefusedException ex)
            {
                // Tried again later by itself; a try that fails again is the same failure, reported once.
                if (retries.Refused(pluginId, ex.Message))
                {
                    counted.Add(1, new("kind", kind), new("outcome", "failed"));
                    Log.ApplyFailed(logger, kind, pluginId, ex);
                    events.Record(ex.PluginId, ex.EventName, ex.EventDetail);
                }
                else
                {
                    Log.StillRefused(logger, pluginId, ex.Message);
                }
            }
            catch (Exception ex)
            {
                // The plugin's next notice, or the next resync, may still be applied: one failure must not deafen the replica.
                counted.Add(1, new("kind", kind), new("outcome", "failed"));
                Log.ApplyFailed(logger, kind, pluginId, ex);
            }
        }
    }

    /// <summary>
    /// What the applying loop is handed: one notice; or one plugin's refused follow to try again;
    /// or (neither) everything to read again: after a lost link every plugin's whole state, at
    /// start only the installs and uninstalls.
    /// </summary>
    private sealed record Work(StoreChange? Change, bool InstallsOnly = false, string? FollowAgain = null);

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(attempt, 10))));

    private static partial class Log
    {
        [LoggerMessage(EventId = 1084, EventName = "ReplicaListening", Level = LogLevel.Information, Message = "The host shares its state through PostgreSQL on {Server} and hears the other replicas' changes.")]
        public static partial void Listening(ILogger logger, string server);

        [LoggerMessage(EventId = 1085, EventName = "StoreWaiting", Level = LogLevel.Warning, Message = "The PostgreSQL store does not answer yet ({Problem}); the host keeps trying for {Limit} before it gives up.")]
        public static partial void Waiting(ILogger logger, string problem, TimeSpan limit);

        [LoggerMessage(EventId = 1086, EventName = "ReplicaLinkLost", Level = LogLevel.Error, Message = "The host lost its connection to the PostgreSQL store's notices ({Problem}): other replicas' settings, enable/disable and tenant scopes do not reach this one until it is back. It reconnects with backoff, then reads everything again.")]
        public static partial void Lost(ILogger logger, string problem);

        [LoggerMessage(EventId = 1087, EventName = "ReplicaLinkRegained", Level = LogLevel.Information, Message = "The host hears the other replicas' changes again; it reads every plugin's state, scope and settings again for what it missed.")]
        public static partial void Regained(ILogger logger);

        [LoggerMessage(EventId = 1088, EventName = "ReplicaChangeFailed", Level = LogLevel.Error, Message = "A change from another host replica ({Kind} of {PluginId}) could not be applied here.")]
        public static partial void ApplyFailed(ILogger logger, string kind, string pluginId, Exception exception);

        [LoggerMessage(EventId = 1093, EventName = "ReplicaFollowStillRefused", Level = LogLevel.Debug, Message = "Plugin {PluginId}: tried again to follow the other replicas, still refused: {Problem}")]
        public static partial void StillRefused(ILogger logger, string pluginId, string problem);

        [LoggerMessage(EventId = 1090, EventName = "SharedKeyRingInClear", Level = LogLevel.Warning, Message = "The key ring that seals secret settings is in the PostgreSQL store beside the secrets, unencrypted: a copy of the database opens them. Set PluginHost:Store:KeyRingCertificatePath and KeyRingKeyPath (the same certificate on every replica) to encrypt the ring's keys to it.")]
        public static partial void KeyRingInClear(ILogger logger);

        [LoggerMessage(EventId = 1089, EventName = "ReplicaNoticeUnreadable", Level = LogLevel.Warning, Message = "A notice from another host replica cannot be read by this one (a newer version's?): {Payload}. This replica reads everything again instead.")]
        public static partial void UnreadableNotice(ILogger logger, string payload);
    }
}
