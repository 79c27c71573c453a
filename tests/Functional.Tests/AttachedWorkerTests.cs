using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// Workers that run elsewhere (a container, another machine) and are attached, not spawned:
/// reached over TCP with mutual TLS, each side trusting only a private CA; supervised by
/// health alone, reached again when they come back, and never ended by the host.
/// </summary>
public sealed class AttachedWorkerTests : IDisposable
{
    private readonly string _pkiDirectory = Directory.CreateTempSubdirectory("gpt-pki-").FullName;
    private readonly TestPki _hosts;
    private readonly TestPki _plugins;
    private readonly (string Certificate, string Key) _hostIdentity;
    private readonly (string Certificate, string Key) _pluginIdentity;

    public AttachedWorkerTests()
    {
        _hosts = TestPki.Create(_pkiDirectory, "hosts");
        _plugins = TestPki.Create(_pkiDirectory, "plugins");
        _hostIdentity = _hosts.IssueIdentity("host");
        _pluginIdentity = _plugins.IssueIdentity("plugin");
    }

    private static JsonObject Attached(string id, int port)
    {
        var manifest = PluginFolders.Test(id);
        manifest.Remove("command");
        manifest.Remove("args");
        manifest["attach"] = new JsonObject { ["address"] = $"https://localhost:{port}" };
        return manifest;
    }

    /// <summary>The Python or Node example's manifest, attached: one hook, GET /ping (anonymous) and POST /count.</summary>
    private static JsonObject AttachedExample(string id, int port) => new()
    {
        ["id"] = id,
        ["version"] = "1.0.0",
        ["attach"] = new JsonObject { ["address"] = $"https://localhost:{port}" },
        ["hooks"] = new JsonArray("request"),
        ["routes"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/ping", ["anonymous"] = true }, new JsonObject { ["method"] = "POST", ["path"] = "/count" }),
    };

    private Task<TestHost> StartHostAsync(JsonObject manifest, string? trustedCa = null, Action<Host.Hosting.PluginHostOptions>? configure = null) =>
        TestHost.StartAsync([manifest], o =>
        {
            o.Attach.CertificatePath = _hostIdentity.Certificate;
            o.Attach.KeyPath = _hostIdentity.Key;
            o.Attach.TrustedCaPath = trustedCa ?? _plugins.CaPath;
            configure?.Invoke(o);
        });

    [Fact]
    public async Task AttachedWorker_ServesHooksAndRoutes_OverMutualTls()
    {
        var port = LoopbackPort.Free();
        await using var worker = await AttachedWorker.StartAsync("away", port, _pluginIdentity, _hosts.CaPath);
        await using var host = await StartHostAsync(Attached("away", port));

        var ready = await host.WaitForStateAsync("away", WorkerState.Ready);
        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("start"));
        var whoami = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/away/whoami");
        var body = new byte[2 * 1024 * 1024];
        Random.Shared.NextBytes(body);
        var uploaded = await (await host.Admin.PostAsync("/plugins/away/upload", new ByteArrayContent(body))).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/away");

        using var noWayBack = await host.Admin.GetAsync("/plugins/away/settings");

        Assert.Null(ready.Pid);
        // Its host offers no way back: a settings read fails in the plugin, which says what the host must set.
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, noWayBack.StatusCode);
        await SupervisorTests.WaitUntilAsync(() => worker.Stderr.Any(l => l.Contains("needs PluginHost:Attach:CallbackListen and CallbackAddress", StringComparison.Ordinal)), TimeSpan.FromSeconds(5));
        Assert.Equal("start|away", Encoding.UTF8.GetString(Assert.IsType<HookOutcome.Continued>(outcome).Body.Span));
        Assert.Equal(worker.Pid, whoami.GetProperty("pid").GetInt32());
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)), uploaded.GetProperty("sha256").GetString());
        // Its host offers it no way back to pull the body, so the host streams it in the call.
        Assert.NotEqual("PulledBodyStream", uploaded.GetProperty("transport").GetString());
        Assert.Equal($"https://localhost:{port}/", view.GetProperty("attachedAt").GetString());
        Assert.Equal("Ready", view.GetProperty("state").GetString());
    }

    [Fact]
    public async Task AttachedWorker_WhoseHostOffersTheWayBack_ReadsItsSettings_AndPullsBodies_WithATokenOfEachAttach()
    {
        var port = LoopbackPort.Free();
        var callbackPort = LoopbackPort.Free();
        var first = await AttachedWorker.StartAsync("away", port, _pluginIdentity, _hosts.CaPath);
        try
        {
            // Inside the try: a host that fails to start must not leave the worker running.
            await using var host = await StartHostAsync(Attached("away", port), configure: o =>
            {
                o.Attach.CallbackListen = $"127.0.0.1:{callbackPort}";
                o.Attach.CallbackAddress = $"https://localhost:{callbackPort}";
            });
            await host.WaitForStateAsync("away", WorkerState.Ready);
            (await host.Admin.PutAsync("/admin/api/plugins/away/settings", SettingsAndAdminTests.Json("""{"greeting":"from afar"}"""))).EnsureSuccessStatusCode();
            var settings = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/away/settings");
            var body = new byte[1024 * 1024];
            Random.Shared.NextBytes(body);
            var uploaded = await (await host.Admin.PostAsync("/plugins/away/upload", new ByteArrayContent(body))).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();

            Assert.Equal("from afar", settings.GetProperty("greeting").GetString());
            Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)), uploaded.GetProperty("sha256").GetString());
            Assert.Equal("PulledBodyStream", uploaded.GetProperty("transport").GetString());

            // Away and back: the new attach's token is the one that works.
            await first.KillAsync();
            await host.WaitForAsync("away", s => s.State != WorkerState.Ready, "the host noticing it is away", TimeSpan.FromSeconds(30));
            await using var second = await AttachedWorker.StartAsync("away", port, _pluginIdentity, _hosts.CaPath);
            await host.WaitForStateAsync("away", WorkerState.Ready, TimeSpan.FromSeconds(30));
            var again = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/away/settings");
            Assert.Equal("from afar", again.GetProperty("greeting").GetString());

            // The port serves only workers with a certificate from the plugins' CA, then only with a live token.
            foreach (var (identity, expected) in new (string Certificate, string Key)?[] { null, _hosts.IssueClient("stranger"), _pluginIdentity }.Zip([TlsRefused, TlsRefused, [StatusCode.Unauthenticated]]))
            {
                using var channel = GrpcChannel.ForAddress($"https://localhost:{callbackPort}", new GrpcChannelOptions { HttpHandler = Handler(identity) });
                var refused = await Assert.ThrowsAsync<RpcException>(() => new Protocol.V1.PluginHost.PluginHostClient(channel).GetSettingsAsync(
                    new Protocol.V1.GetSettingsRequest(), new Metadata { { "plugin-token", new string('0', 64) } }, DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
                Assert.Contains(refused.StatusCode, expected);
            }
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    /// <summary>
    /// A connection the server's TLS refuses fails before any call reaches a service: in the
    /// handshake (UNAVAILABLE), or, under TLS 1.3, where the client only learns of the refusal
    /// at its first read (INTERNAL).
    /// </summary>
    private static readonly StatusCode[] TlsRefused = [StatusCode.Unavailable, StatusCode.Internal];

    private static SocketsHttpHandler Handler((string Certificate, string Key)? identity) => new()
    {
        SslOptions =
        {
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
            ClientCertificates = identity is { } pair ? [System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(pair.Certificate, pair.Key)] : null,
        },
    };

    [Fact]
    public async Task PythonPluginRunAttached_ServesAHookAndARoute_AndPullsABodyThroughTheWayBack()
    {
        // protocol.md section 8 from grpcio alone: TLS both ways, no token, the way back from Describe.
        var port = LoopbackPort.Free();
        var callbackPort = LoopbackPort.Free();
        await using var worker = await AttachedWorker.StartAsync(["/usr/bin/python3", TestPaths.PythonPlugin], "python-hello", port, _pluginIdentity, _hosts.CaPath);
        var manifest = AttachedExample("python-hello", port);
        manifest["limits"] = new JsonObject { ["maxConcurrentCalls"] = 6 };
        await using var host = await StartHostAsync(manifest, configure: o =>
        {
            o.Attach.CallbackListen = $"127.0.0.1:{callbackPort}";
            o.Attach.CallbackAddress = $"https://localhost:{callbackPort}";
        });
        await host.WaitForStateAsync("python-hello", WorkerState.Ready);

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("hi"));
        var ping = await host.Client.GetFromJsonAsync<JsonElement>("/plugins/python-hello/ping");
        var counted = await (await host.Admin.PostAsync("/plugins/python-hello/count", new ByteArrayContent(new byte[300_000]))).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("hi (seen by python)", Encoding.UTF8.GetString(Assert.IsType<HookOutcome.Continued>(outcome).Body.Span));
        Assert.Equal(worker.Pid, ping.GetProperty("pid").GetInt32());
        Assert.Equal(300_000, counted.GetProperty("bytes").GetInt32());
        Assert.Equal("ReadHttpBody", counted.GetProperty("body").GetString());
    }

    [Theory]
    [InlineData("node")]
    [InlineData("go")]
    public async Task NodeAndGoPluginsRunAttached_ServeAHookAndARoute_AndStopOnSigterm(string language)
    {
        // protocol.md section 8 from grpc-js or grpc-go alone; neither calls the host, so no way back.
        var (id, command) = language == "go" ? ("go-hello", new[] { TestPaths.GoPlugin }) : ("node-hello", new[] { "node", TestPaths.NodePlugin });
        var port = LoopbackPort.Free();
        var worker = await AttachedWorker.StartAsync(command, id, port, _pluginIdentity, _hosts.CaPath);
        await using (worker)
        {
            await using var host = await StartHostAsync(AttachedExample(id, port));
            await host.WaitForStateAsync(id, WorkerState.Ready);

            var outcome = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("hi"));
            var ping = await host.Client.GetFromJsonAsync<JsonElement>($"/plugins/{id}/ping");
            var counted = await (await host.Admin.PostAsync($"/plugins/{id}/count", new ByteArrayContent(new byte[300_000]))).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();

            Assert.Equal($"hi (seen by {language})", Encoding.UTF8.GetString(Assert.IsType<HookOutcome.Continued>(outcome).Body.Span));
            Assert.Equal(worker.Pid, ping.GetProperty("pid").GetInt32());
            Assert.Equal(300_000, counted.GetProperty("bytes").GetInt32());

            // Whatever runs it (a container's runtime) stops it with SIGTERM, and it goes.
            using (var term = System.Diagnostics.Process.Start("kill", ["-TERM", worker.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            // The Go example says it stopped its server (Go's default for SIGTERM would end it without that line);
            // its stderr is read as it comes, so the line may be read after the exit is seen.
            await SupervisorTests.WaitUntilAsync(() => !Liveness.IsAlive(worker.Pid) && (language != "go" || worker.Stderr.Contains("info: stopping: terminated")), TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task AttachedWorkerThatGoesAway_IsReachedAgainWhenItComesBack_WithoutTrippingTheBreaker_AndIsNeverEndedByTheHost()
    {
        var port = LoopbackPort.Free();
        var first = await AttachedWorker.StartAsync("away", port, _pluginIdentity, _hosts.CaPath);
        try
        {
            // Inside the try: a host that fails to start must not leave the worker running.
            await using var host = await StartHostAsync(Attached("away", port), configure: o =>
            {
                o.MaxRestarts = 1;
                o.StartTimeout = TimeSpan.FromSeconds(1);
                o.HealthFailureThreshold = 1;
            });
            await host.WaitForStateAsync("away", WorkerState.Ready);
            await first.KillAsync();

            // Away for longer than the breaker would allow a spawned worker: several failed starts.
            await host.WaitForAsync("away", s => s.Restarts >= 3, "three attempts to reach it again", TimeSpan.FromSeconds(30));
            var away = host.Supervisor("away").Snapshot;
            Assert.NotEqual(WorkerState.CrashLooping, away.State);
            Assert.Contains($"attached at https://localhost:{port}/ did not serve within its start timeout", away.LastError, StringComparison.Ordinal);

            await using var second = await AttachedWorker.StartAsync("away", port, _pluginIdentity, _hosts.CaPath);
            await host.WaitForStateAsync("away", WorkerState.Ready, TimeSpan.FromSeconds(30));
            var whoami = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/away/whoami");
            Assert.Equal(second.Pid, whoami.GetProperty("pid").GetInt32());

            // Disabled, the host lets go of it; the worker is whoever runs it to end.
            (await host.Admin.PostAsync("/admin/api/plugins/away/disable", null)).EnsureSuccessStatusCode();
            await host.WaitForStateAsync("away", WorkerState.Stopped);
            await Task.Delay(300);
            Assert.False(second.HasExited);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task HostThatDoesNotTrustTheWorkersCa_NeverCallsIt_AndSaysWhy()
    {
        var port = LoopbackPort.Free();
        await using var worker = await AttachedWorker.StartAsync("away", port, _pluginIdentity, _hosts.CaPath);
        await using var host = await StartHostAsync(Attached("away", port), trustedCa: _hosts.CaPath, configure: o => o.StartTimeout = TimeSpan.FromSeconds(3));

        var failed = await host.WaitForAsync("away", s => s.LastError is not null, "a failed start");

        Assert.Contains("did not serve within its start timeout", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("last probe: TLS refused: the worker's certificate (CN=plugin, issued by CN=plugins test CA) does not chain to a CA in PluginHost:Attach:TrustedCaPath", failed.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkerRefusesCallers_WithoutACertificateFromTheHostsCa()
    {
        var port = LoopbackPort.Free();
        await using var worker = await AttachedWorker.StartAsync("away", port, _pluginIdentity, _hosts.CaPath);
        var stranger = _plugins.IssueClient("stranger"); // the right kind of certificate, from the wrong CA

        foreach (var identity in new (string Certificate, string Key)?[] { null, stranger })
        {
            using var channel = GrpcChannel.ForAddress($"https://localhost:{port}", new GrpcChannelOptions { HttpHandler = Handler(identity) });
            var refused = await Assert.ThrowsAsync<RpcException>(() => new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
            Assert.Contains(refused.StatusCode, TlsRefused);
        }

        Assert.False(worker.HasExited);
    }

    [Fact]
    public async Task Admin_SeesAnAttachedPlugin_AsRunningElsewhere_WithWhereItIsAttached()
    {
        var port = LoopbackPort.Free();
        await using var worker = await AttachedWorker.StartAsync("away", port, _pluginIdentity, _hosts.CaPath);
        await using var host = await StartHostAsync(Attached("away", port));
        await host.WaitForStateAsync("away", WorkerState.Ready);
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await AdminPageTests.LaunchAsync(playwright);
        var page = await AdminPageTests.SignInAsync(browser, host);

        await page.WaitForSelectorAsync("#plugin-away .state-Ready");
        var row = await page.TextContentAsync("#plugin-away");
        var memory = await page.TextContentAsync("#plugin-away .attached");
        await page.ClickAsync("#plugin-away .action-settings");
        await page.WaitForFunctionAsync("() => document.getElementById('detail-facts').textContent.length > 0");
        var facts = await page.TextContentAsync("#detail-facts");

        Assert.Contains($"(attached at https://localhost:{port}/)", row, StringComparison.Ordinal);
        Assert.Equal("runs elsewhere", memory);
        Assert.Contains($"It runs elsewhere, attached at https://localhost:{port}/: its memory, disk and logs are kept where it runs.", facts, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_pkiDirectory, recursive: true);
}
