using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>The reference host as its own process, for what only a separate process shows: kill -9 of the host, the host's own environment.</summary>
internal sealed partial class HostProcess : IAsyncDisposable
{
    private readonly Process _process;

    private HostProcess(Process process, Uri address, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        _process = process;
        Address = address;
        Output = output;
    }

    public Uri Address { get; }

    /// <summary>The temp directory this host owns (<see cref="StartWithPluginsAsync"/>), removed when it is disposed; null when the test owns its directory.</summary>
    public string? Root { get; private set; }

    /// <summary>Its stdout's and stderr's lines so far: its console log, and why it did not start.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; }

    public int Pid => _process.Id;

    /// <summary>Starts the reference host on <paramref name="root"/>'s plugins and state, with <paramref name="environment"/> added to the test's own.</summary>
    public static async Task<HostProcess> StartAsync(string root, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                TestPaths.ReferenceHost,
                "--contentRoot", Path.GetDirectoryName(TestPaths.ReferenceHost)!,
                "--urls", "http://127.0.0.1:0",
                "--PluginHost:PluginsDirectory=" + Path.Combine(root, "plugins"),
                "--PluginHost:StateDirectory=" + Path.Combine(root, "state"),
                "--PluginHost:RuntimeDirectory=" + root,
                "--PluginHost:WorkerPath=" + TestPaths.PluginWorker,
                "--PluginHost:AdminApiKey=" + TestHost.AdminKey,
                "--PluginHost:AllowUnsignedPlugins=true",
                "--Logging:LogLevel:Default=Information",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Its temp directory, the workers' too, inside the test's: the runtime files a host killed with
        // SIGKILL cannot remove (its diagnostic socket, its debugger's pipes) go with the test's directory.
        start.Environment["TMPDIR"] = TempDirectory(root);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }

            if (e.Data is not null && ListeningPattern().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // A host that fails its start exits: that ends the wait, with what it printed.
            var exited = process.WaitForExitAsync();
            if (await Task.WhenAny(listening.Task, exited).WaitAsync(TimeSpan.FromSeconds(60)) == exited)
            {
                throw new InvalidOperationException($"the reference host exited ({process.ExitCode}) before it listened:\n{string.Join('\n', output.TakeLast(30))}");
            }

            return new HostProcess(process, await listening.Task, output);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Starts the reference host on a temp directory of its own holding <paramref name="plugins"/>; the directory goes when the host is disposed.</summary>
    public static async Task<HostProcess> StartWithPluginsAsync(IEnumerable<System.Text.Json.Nodes.JsonObject> plugins, IReadOnlyDictionary<string, string>? environment = null)
    {
        var root = Directory.CreateTempSubdirectory("gpt-host-").FullName;
        try
        {
            foreach (var manifest in plugins)
            {
                PluginFolders.Write(Path.Combine(root, "plugins"), manifest);
            }

            var host = await StartAsync(root, environment);
            host.Root = root;
            return host;
        }
        catch
        {
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    /// <summary>The TMPDIR of a host started in <paramref name="root"/>, and of its workers.</summary>
    public static string TempDirectory(string root) => Directory.CreateDirectory(Path.Combine(root, "tmp")).FullName;

    /// <summary>A client of the host's admin API and routes, with the admin key.</summary>
    public HttpClient AdminClient()
    {
        var client = new HttpClient { BaseAddress = Address };
        client.DefaultRequestHeaders.Add("X-Api-Key", TestHost.AdminKey);
        return client;
    }

    /// <summary>Waits up to 30 s for plugin <paramref name="id"/> to show <paramref name="state"/> in the admin API.</summary>
    public static async Task WaitForStateAsync(HttpClient admin, string id, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var view = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/admin/api/plugins/{id}");
            if (view.GetProperty("state").GetString() == state)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{id} never reached {state}: {view}");
            await Task.Delay(100);
        }
    }

    /// <summary>The pid of <paramref name="id"/>'s worker, as the admin API shows it.</summary>
    public static async Task<int> PidOfAsync(HttpClient admin, string id) =>
        (await admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/admin/api/plugins/{id}")).GetProperty("pid").GetInt32();

    /// <summary>Stops the host with <paramref name="signal"/> (SIGTERM, as a service manager does); its exit code once it has exited.</summary>
    public async Task<int> TerminateAsync(TimeSpan within, int signal = Supervisor.Processes.ProcessSignals.SigTerm)
    {
        Supervisor.Processes.ProcessSignals.SignalProcess(_process.Id, signal);
        await _process.WaitForExitAsync().WaitAsync(within);
        return _process.ExitCode;
    }

    /// <summary>Kills the host with SIGKILL: no shutdown code of its own runs.</summary>
    public async Task KillAsync()
    {
        Supervisor.Processes.ProcessSignals.SignalProcess(_process.Id, Supervisor.Processes.ProcessSignals.SigKill);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        if (Root is not null)
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningPattern();
}
