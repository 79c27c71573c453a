using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>
/// A real host (Kestrel on 127.0.0.1, a real SQLite file, real workers over
/// real sockets) in a temp directory. Disposing it stops every worker and
/// fails the test if any process, socket or directory is left behind.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key";

    public static readonly HookPoint Request = new("request", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2));
    public static readonly HookPoint RequestClosed = new("request", HookFailureMode.FailClosed, TimeSpan.FromSeconds(2));

    private readonly WebApplication _app;
    private readonly ErrorLogCollector _errors;
    private readonly ConcurrentDictionary<int, byte> _pids = new();
    private bool _disposed;

    private TestHost(WebApplication app, string root, ErrorLogCollector errors)
    {
        _app = app;
        _errors = errors;
        Root = root;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        Admin = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        foreach (var entry in Catalog.Entries.Where(e => e.Supervisor is not null))
        {
            entry.Supervisor!.StateChanged += s =>
            {
                if (s.Pid is { } pid)
                {
                    _pids.TryAdd(pid, 0);
                }
            };
        }
    }

    public string Root { get; }

    /// <summary>Set by a test of a host whose stop never runs (its start cut short): disposing then disposes its services alone.</summary>
    public bool DisposesWithoutStopping { get; set; }

    /// <summary>Set by a test that provokes errors on purpose (broken plugins); otherwise any Error log fails it.</summary>
    public bool ExpectErrors { get; set; }

    /// <summary>Every Error (or worse) the host logged, as "category[event]: message".</summary>
    public IReadOnlyCollection<string> ErrorLogs => [.. _errors.Errors];

    public string PluginsDirectory => Path.Combine(Root, "plugins");

    /// <summary>Runs <paramref name="sql"/> on the host's embedded store (its SQLite file), as a hand edit or a failing disk would change it.</summary>
    public async Task ExecuteOnStoreAsync(string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Root, "state", "plugins.db")};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public HttpClient Client { get; }

    public HttpClient Admin { get; }

    public IServiceProvider Services => _app.Services;

    public PluginCatalog Catalog => _app.Services.GetRequiredService<PluginCatalog>();

    public IHookDispatcher Hooks => _app.Services.GetRequiredService<IHookDispatcher>();

    public static Task<TestHost> StartAsync(params JsonObject[] plugins) => StartAsync(plugins, null);

    public static async Task<TestHost> StartAsync(IEnumerable<JsonObject> plugins, Action<PluginHostOptions>? configure, string? root = null, Action<WebApplication>? mapApplication = null, Action<IServiceCollection>? services = null, Action<PluginEndpoints>? pluginEndpoints = null)
    {
        var ownsRoot = root is null;
        root ??= Directory.CreateTempSubdirectory("gpt-").FullName;
        WebApplication? app = null;
        var errors = new ErrorLogCollector();
        try
        {
            app = Build(plugins, configure, root, mapApplication, services, pluginEndpoints, errors);
            await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            // Whatever failed (a manifest, a mapping, the start), the test leaves nothing behind.
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            if (ownsRoot)
            {
                Directory.Delete(root, recursive: true);
            }

            throw;
        }

        return new TestHost(app, root, errors);
    }

    private static WebApplication Build(IEnumerable<JsonObject> plugins, Action<PluginHostOptions>? configure, string root, Action<WebApplication>? mapApplication, Action<IServiceCollection>? services, Action<PluginEndpoints>? pluginEndpoints, ErrorLogCollector errors)
    {
        var pluginsDirectory = Path.Combine(root, "plugins");
        Directory.CreateDirectory(pluginsDirectory);
        foreach (var manifest in plugins)
        {
            PluginFolders.Write(pluginsDirectory, manifest);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddProvider(errors);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddPluginHost(o =>
        {
            o.PluginsDirectory = pluginsDirectory;
            o.StateDirectory = Path.Combine(root, "state");
            o.RuntimeDirectory = root;
            o.WorkerPath = TestPaths.PluginWorker;
            o.AdminApiKey = AdminKey;
            o.AllowUnsignedPlugins = true;
            o.StartTimeout = TimeSpan.FromSeconds(20);
            o.ShutdownGrace = TimeSpan.FromSeconds(2);
            o.RestartInitialBackoff = TimeSpan.FromMilliseconds(50);
            o.RestartMaxBackoff = TimeSpan.FromMilliseconds(400);
            o.HealthInterval = TimeSpan.FromMilliseconds(500);
            o.HealthTimeout = TimeSpan.FromMilliseconds(500);
            o.HookPoints.Add(Request);
            configure?.Invoke(o);
        });

        services?.Invoke(builder.Services);
        var app = builder.Build();
        try
        {
            var mapped = app.MapPluginEndpoints();
            pluginEndpoints?.Invoke(mapped);
            mapApplication?.Invoke(app);
            return app;
        }
        catch
        {
            ((IDisposable)app).Dispose();
            throw;
        }
    }

    public PluginSupervisor Supervisor(string id) => Catalog.Find(id)?.Supervisor ?? throw new InvalidOperationException($"no supervisor for '{id}'");

    /// <summary>Waits until <paramref name="id"/> reaches <paramref name="state"/>, or fails with its snapshot.</summary>
    public Task<WorkerSnapshot> WaitForStateAsync(string id, WorkerState state, TimeSpan? timeout = null) =>
        WaitForAsync(id, s => s.State == state, state.ToString(), timeout);

    /// <summary>Waits until <paramref name="id"/>'s snapshot satisfies <paramref name="condition"/> (<paramref name="what"/>), or fails with it.</summary>
    public async Task<WorkerSnapshot> WaitForAsync(string id, Func<WorkerSnapshot, bool> condition, string what, TimeSpan? timeout = null)
    {
        var supervisor = Supervisor(id);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            var snapshot = supervisor.Snapshot;
            if (condition(snapshot))
            {
                if (snapshot.Pid is { } pid)
                {
                    _pids.TryAdd(pid, 0);
                }

                return snapshot;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"plugin '{id}' did not reach {what}; it is {supervisor.Snapshot}");
    }

    /// <summary>Every worker pid seen by this host.</summary>
    public IReadOnlyCollection<int> SeenPids => [.. _pids.Keys];

    /// <summary>Stops the host as a SIGTERM would (disposing afterwards still cleans up).</summary>
    public Task StopAsync() => _app.StopAsync();

    /// <summary>
    /// Stops the host and removes its workers and folders; a second call does nothing. A test that
    /// stops the host midway, to look at what the stop did, still holds it with <c>await using</c>:
    /// a failure before that stop must not leave the host's workers or folders behind.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var entry in Catalog.Entries.Where(e => e.Supervisor?.Snapshot.Pid is not null))
        {
            _pids.TryAdd(entry.Supervisor!.Snapshot.Pid!.Value, 0);
        }

        Client.Dispose();
        Admin.Dispose();
        // A host that does not stop (a request the test left open, say) must still not
        // leave its workers or folders behind: the clean-up below runs either way.
        TimeoutException? notStopped = null;
        try
        {
            if (!DisposesWithoutStopping)
            {
                await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }

            await _app.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException ex)
        {
            notStopped = ex;
        }

        // A killed group takes a moment to die; a live member never goes.
        var until = DateTime.UtcNow.AddSeconds(3);
        List<int> leftovers;
        while ((leftovers = [.. SeenPids.Where(pid => Liveness.GroupAlive(pid) || Liveness.IsAlive(pid))]).Count > 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }

        foreach (var pid in leftovers)
        {
            ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
        }

        var sockets = Directory.Exists(Root) ? Directory.GetDirectories(Root, "gph-*") : [];
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        if (notStopped is not null)
        {
            throw new InvalidOperationException("the host did not stop within 30 s (is a response still open?); its workers were killed", notStopped);
        }

        if (leftovers.Count > 0)
        {
            throw new InvalidOperationException($"worker processes outlived the host: {string.Join(", ", leftovers)}");
        }

        if (sockets.Length > 0)
        {
            throw new InvalidOperationException($"runtime directories outlived the host: {string.Join(", ", sockets)}");
        }

        if (!ExpectErrors && !_errors.Errors.IsEmpty)
        {
            throw new InvalidOperationException("unexpected error logs: " + string.Join(" | ", _errors.Errors.Take(5)));
        }
    }
}
