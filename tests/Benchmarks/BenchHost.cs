using System.Reflection;
using System.Text.Json.Nodes;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Host.Hosting;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Benchmarks;

/// <summary>A real host with real workers, as in the functional tests, with logging off the hot path.</summary>
internal sealed class BenchHost : IAsyncDisposable
{
    public static readonly HookPoint Request = new("request", HookFailureMode.FailOpen, TimeSpan.FromSeconds(5));

    public static readonly HookPoint Response = new("response", HookFailureMode.FailOpen, TimeSpan.FromSeconds(5));

    /// <summary>An endpoint of the host app that echoes the body it is sent.</summary>
    /// <summary>The admin API's key, for the sections that set one.</summary>
    public const string AdminKey = "bench-admin-key";

    public const string EchoPath = "/bench/echo";

    /// <summary>The same endpoint run through <see cref="Request"/> and <see cref="Response"/>.</summary>
    public const string HookedEchoPath = "/bench/echo-hooked";

    private readonly WebApplication _app;
    private readonly string _root;
    private Task? _stop;

    private BenchHost(WebApplication app, string root)
    {
        _app = app;
        _root = root;
        Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri Address { get; }

    public IHookDispatcher Hooks => _app.Services.GetRequiredService<IHookDispatcher>();

    /// <summary>The host's shared pass over /proc, which every worker's memory and thread watchdogs read.</summary>
    public ProcessGroupSampler ProcSampler => _app.Services.GetRequiredService<ProcessGroupSampler>();

    public PluginSupervisor Supervisor(string id) => _app.Services.GetRequiredService<PluginCatalog>().Find(id)!.Supervisor!;

    private static readonly Dictionary<string, string> s_build =
        typeof(BenchHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value!);

    /// <summary>A path inside the repository this bench was built from.</summary>
    private static string Repo(params string[] parts) => Path.Combine([s_build["RepoRoot"], .. parts]);

    public static string Output(string project, string file) => Repo(project, "bin", s_build["Configuration"], "net10.0", file);

    // Read from examples/hello/plugin.json (its response hook is headers only), so the bench cannot drift from it.
    private static JsonArray HelloHooks() =>
        JsonNode.Parse(File.ReadAllText(Repo("examples", "hello", "plugin.json")))!["hooks"]!.DeepClone().AsArray();

    public static JsonObject Hello(string id) => new()
    {
        ["id"] = id,
        ["version"] = "1.0.0",
        ["assembly"] = Output("examples/hello", "Hello.dll"),
        ["hooks"] = HelloHooks(),
        ["routes"] = AnonymousRoutes(("GET", "/ping"), ("GET", "/greet")),
    };

    /// <summary>The NativeAOT build of hello from `make aot`, or null when it was not built.</summary>
    public static JsonObject? HelloAot()
    {
        var executable = Repo("build", "aot", "hello", "Hello");
        return File.Exists(executable) ? new JsonObject
        {
            ["id"] = "hello",
            ["version"] = "1.0.0",
            ["command"] = executable,
            ["hooks"] = HelloHooks(),
            ["routes"] = AnonymousRoutes(("GET", "/ping")),
        } : null;
    }

    /// <summary>The NativeAOT build of the test plugin from `make aot` (it takes its id from the host), or null.</summary>
    public static JsonObject? TestAot(string id) => PublishedTest(id, Repo("build", "aot", "testplugin", "TestPlugin"));

    /// <summary>
    /// The test plugin published ReadyToRun by `make r2r`: framework-dependent
    /// (<paramref name="folder"/> "testplugin") or self-contained and trimmed as one composite
    /// image ("testplugin-trimmed"); null when it was not built.
    /// </summary>
    public static JsonObject? TestReadyToRun(string id, string folder) => PublishedTest(id, Repo("build", "r2r", folder, "TestPlugin"));

    /// <summary>PluginWorker published ReadyToRun by `make r2r`; null when it was not built.</summary>
    public static string? PluginWorkerReadyToRun()
    {
        var worker = Repo("build", "r2r", "worker", "GrpcPlugins.PluginWorker.dll");
        return File.Exists(worker) ? worker : null;
    }

    private static JsonObject? PublishedTest(string id, string executable) => File.Exists(executable) ? new JsonObject
    {
        ["id"] = id,
        ["version"] = "1.0.0",
        ["command"] = executable,
        ["args"] = new JsonArray("normal"),
        ["hooks"] = new JsonArray("request"),
    } : null;

    /// <summary>The Python example, run from its folder in the repository.</summary>
    public static JsonObject Python() => Example("python-hello", "/usr/bin/python3", "examples/python-plugin/plugin.py");

    /// <summary>The Node.js example, run from its folder in the repository.</summary>
    public static JsonObject Node() => Example("node-hello", "node", "examples/node-plugin/plugin.js");

    /// <summary>The Go example, built by make build beside its plugin.json: a static executable, no runtime to start.</summary>
    public static JsonObject Go() => Example("go-hello", Repo("examples/go-plugin/plugin"));

    private static JsonObject Example(string id, string command, string? script = null) => new()
    {
        ["id"] = id,
        ["version"] = "1.0.0",
        ["command"] = command,
        ["args"] = script is null ? new JsonArray() : new JsonArray(Repo(script)),
        ["hooks"] = new JsonArray("request"),
        ["routes"] = AnonymousRoutes(("GET", "/ping")),
    };

    /// <summary>A manifest's "routes": each one anonymous, so the bench needs no credentials for it.</summary>
    public static JsonArray AnonymousRoutes(params (string Method, string Path)[] routes) =>
        [.. routes.Select(r => (JsonNode)new JsonObject { ["method"] = r.Method, ["path"] = r.Path, ["anonymous"] = true })];

    public static JsonObject Test(string id, string mode, JsonObject? limits = null) => new()
    {
        ["id"] = id,
        ["version"] = "1.0.0",
        ["command"] = "dotnet",
        ["args"] = new JsonArray(Output("tests/TestPlugin", "TestPlugin.dll"), mode),
        ["hooks"] = new JsonArray("request"),
        ["limits"] = limits,
    };

    public static async Task<BenchHost> StartAsync(IEnumerable<JsonObject> plugins, Action<PluginHostOptions>? configure = null)
    {
        var root = Directory.CreateTempSubdirectory("gpb-").FullName;
        foreach (var manifest in plugins)
        {
            var folder = Path.Combine(root, "plugins", manifest["id"]!.GetValue<string>());
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "plugin.json"), manifest.ToJsonString());
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddPluginHost(o =>
        {
            o.PluginsDirectory = Path.Combine(root, "plugins");
            o.StateDirectory = Path.Combine(root, "state");
            o.RuntimeDirectory = root;
            o.WorkerPath = Output("src/PluginWorker", "GrpcPlugins.PluginWorker.dll");
            o.StartTimeout = TimeSpan.FromSeconds(60);
            o.AllowUnsignedPlugins = true;
            o.HookPoints.Add(Request);
            o.HookPoints.Add(Response);
            foreach (var (name, value) in ExtraWorkerEnvironment())
            {
                o.WorkerEnvironment[name] = value;
            }

            if (int.TryParse(Environment.GetEnvironmentVariable("BENCH_WORKER_NICE"), out var nice))
            {
                o.WorkerNice = nice;
            }

            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.UseWebSockets();
        app.MapPluginEndpoints();
        // A short answer written by the host app itself: what the host's own
        // pipeline (Kestrel, routing, authentication) costs, without a worker.
        app.MapGet("/bench/pong", () => "pong");
        app.MapPost(EchoPath, Echo);
        var catalog = app.Services.GetRequiredService<PluginCatalog>();
        // No lease: one leg at a time, as the bench makes them, is within any plugin's limit.
        app.MapGet(RouteLeg.EndpointPath, context => RouteLeg.ServeAsync(context, () => catalog.Find("hello")!.Supervisor!.ReadyWorker!.Connection));
        app.MapPost(HookedEchoPath, Echo).WithPluginHooks(new EndpointHooks { Inbound = Request, Outbound = Response });
        await app.StartAsync();
        return new BenchHost(app, root);
    }

    private static async Task Echo(Microsoft.AspNetCore.Http.HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length));
    }

    /// <summary>
    /// BENCH_WORKER_ENV="NAME=value;NAME=value": runtime settings for every worker (and the YARP
    /// backend process), so a trade-off can be measured without a rebuild.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> ExtraWorkerEnvironment() => EnvironmentPairs("BENCH_WORKER_ENV");

    /// <summary>"NAME=value;NAME=value" from the environment variable <paramref name="variable"/>.</summary>
    public static IEnumerable<KeyValuePair<string, string>> EnvironmentPairs(string variable) =>
        (Environment.GetEnvironmentVariable(variable) ?? string.Empty)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2))
            .Select(pair => pair.Length == 2 ? KeyValuePair.Create(pair[0], pair[1]) : throw new ArgumentException($"{variable}: '{pair[0]}' is not NAME=value"));

    /// <summary>From the spawn of the worker to Ready (handshake, health, Describe, Configure), as the supervisor saw it.</summary>
    public TimeSpan SpawnToReady(string id)
    {
        var supervisor = Supervisor(id);
        return supervisor.Snapshot.ReadySince!.Value - supervisor.ReadyWorker!.Process.StartedAt;
    }

    public async Task WaitReadyAsync(string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (Supervisor(id).Snapshot.State != WorkerState.Ready)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{id}: {Supervisor(id).Snapshot}");
            }

            await Task.Delay(1);
        }
    }

    /// <summary>A client of this host that holds the admin key.</summary>
    public HttpClient AdminClient()
    {
        var http = new HttpClient { BaseAddress = Address };
        http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return http;
    }

    /// <summary>Stops the host as its application's shutdown does: every supervisor stops its worker.</summary>
    public Task StopAsync() => _stop ??= _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
