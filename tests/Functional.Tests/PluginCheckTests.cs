using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GrpcPlugins.Functional.Tests.Infrastructure;

namespace GrpcPlugins.Functional.Tests;

/// <summary>
/// <c>BundleTool check</c>, run as a real process on real plugin folders: an author in any
/// language learns, before a host sees the plugin, whether it keeps the protocol, and if not,
/// what the host saw and how to fix it. Nothing it starts outlives it.
/// </summary>
public sealed partial class PluginCheckTests : IDisposable
{
    private readonly string _root;

    // The check's TMPDIR: its own temp directory (a host's state, the workers' sockets) lands
    // here, so a check killed by a failing test is removed with the test's directory.
    private readonly string _temp;

    public PluginCheckTests()
    {
        _root = Directory.CreateTempSubdirectory("gpt-").FullName;
        _temp = Directory.CreateDirectory(Path.Combine(_root, "tmp")).FullName;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task APythonPlugin_ThatKeepsTheProtocol_PassesEveryStep_AndItsFolderIsLeftAsItWas()
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "examples/python-plugin");
        var before = Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order().ToList();

        var (code, output) = await CheckAsync(folder);

        Assert.True(code == 0, output);
        Assert.Contains("ok    manifest: python-hello 1.0.0, runs /usr/bin/python3 plugin.py; hooks request; routes GET /ping, POST /count", output, StringComparison.Ordinal);
        Assert.Matches(@"ok    start: Ready as pid \d+: handshake \d+ ms", output);
        Assert.Contains("ok    health: Healthy in /healthz", output, StringComparison.Ordinal);
        Assert.Contains("ok    token: Health and Describe refused without the token and with a wrong one (UNAUTHENTICATED)", output, StringComparison.Ordinal);
        Assert.Contains("ok    host only: another process holding the token, read from /proc, was refused", output, StringComparison.Ordinal);
        Assert.Matches(@"ok    memory: [\d.]+ MiB after the check's calls, \d+ % of its limit of 128 MiB", output);
        Assert.Matches(@"ok    threads: \d+ after the check's calls, \d+ % of its limit of 1024 \(its whole process group\)", output);
        Assert.Matches(@"ok    hook request: answered in [\d.]+ ms \(POST /check, text/plain\): body replaced", output);
        Assert.Matches(@"ok    route GET /ping: 200 in [\d.]+ ms, \d+ bytes of application/json", output);
        Assert.Contains("skip  route POST /count: not called", output, StringComparison.Ordinal);
        Assert.Matches(@"ok    route GET /shout: 426 in [\d.]+ ms", output);
        Assert.Matches(@"ok    websocket GET /shout: accepted in [\d.]+ ms, answered 'CHECK' in [\d.]+ ms; closed with 1000 in [\d.]+ ms", output);
        Assert.Contains("skip  websocket GET /ping: takes no WebSocket: the plugin refused the handshake with 404", output, StringComparison.Ordinal);
        Assert.Matches(@"ok    shutdown: pid \d+ exited with code 0", output);
        Assert.EndsWith("passed: a host will run it as checked", output.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
        Assert.Matches(@"ok    stdin: pid \d+ ended \(exit code 0\) \d+ ms after its stdin closed", output);
        Assert.Equal(2, Pids(output).Count); // the worker that exited after Shutdown, and the one started again
        Assert.All(Pids(output), pid => Assert.False(Liveness.IsAlive(pid), $"pid {pid} outlived the check"));
        Assert.Equal(before, Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Fact]
    public async Task ACheckRunInAnApplicationsFolder_TakesNoneOfItsConfiguration()
    {
        // The application's own port, taken (it runs), named in its appsettings.json as production names it.
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var application = Directory.CreateDirectory(Path.Combine(_root, "application")).FullName;
        await File.WriteAllTextAsync(
            Path.Combine(application, "appsettings.json"),
            $"{{ \"Kestrel\": {{ \"Endpoints\": {{ \"Http\": {{ \"Url\": \"http://127.0.0.1:{port}\" }} }} }}, \"PluginHost\": {{ \"StartTimeout\": \"00:00:00.001\" }} }}");

        var (code, output) = await DotnetCli.RunAsync([TestPaths.Example("src/BundleTool", "GrpcPlugins.BundleTool.dll"), "check", Write(PluginFolders.Test("t"))], application, TimeSpan.FromMinutes(1), _temp);

        Assert.True(code == 0, output);
        Assert.Empty(CheckTempDirectories());
    }

    [Fact]
    public async Task AGoPlugin_ThatKeepsTheProtocol_PassesEveryStep()
    {
        _ = TestPaths.GoPlugin; // built by make build; a clear failure otherwise

        var (code, output) = await CheckAsync(Path.Combine(TestPaths.RepoRoot, "examples/go-plugin"));

        Assert.True(code == 0, output);
        Assert.Contains("ok    manifest: go-hello 1.0.0, runs ./plugin; hooks request; routes GET /ping, POST /count", output, StringComparison.Ordinal);
        Assert.Contains("ok    token: Health and Describe refused without the token and with a wrong one (UNAUTHENTICATED)", output, StringComparison.Ordinal);
        Assert.Contains("ok    host only: another process holding the token, read from /proc, was refused", output, StringComparison.Ordinal);
        Assert.DoesNotContain("a connection from pid", output, StringComparison.Ordinal); // its refusal, logged, is the step's, not a host log warning
        Assert.Matches(@"ok    hook request: answered in [\d.]+ ms \(POST /check, text/plain\): body replaced", output);
        Assert.Matches(@"ok    route GET /ping: 200 in [\d.]+ ms, \d+ bytes of application/json", output);
        Assert.Matches(@"ok    shutdown: pid \d+ exited with code 0", output);
        Assert.Matches(@"ok    stdin: pid \d+ ended \(exit code 0\)", output);
        Assert.EndsWith("passed: a host will run it as checked", output.TrimEnd(), StringComparison.Ordinal);
        Assert.All(Pids(output), pid => Assert.False(Liveness.IsAlive(pid), $"pid {pid} outlived the check"));
    }

    [Fact]
    public async Task ACSharpPlugin_RunsUnderTheWorkerItIsGiven_AndWithoutOne_IsToldHowToGiveIt()
    {
        var folder = Write(PluginFolders.Hello());

        var (code, output) = await CheckAsync(folder, "--worker", TestPaths.PluginWorker);
        var (without, told) = await CheckAsync(folder);

        Assert.True(code == 0, output);
        // Only what the plugin set is reported, not the headers the call came with.
        Assert.Matches(@"ok    hook response: answered in [\d.]+ ms \(POST /check, text/plain\): continued, headers set: x-hello-plugin, x-hello-saw\n", output);
        Assert.Equal(1, without);
        Assert.Contains("FAIL  start: it runs under PluginWorker, which is not beside this tool: pass --worker <GrpcPlugins.PluginWorker.dll>", told, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("error-in-hook", "FAIL  hook request: the call (POST /check, text/plain) failed after", "error-in-hook mode")]
    [InlineData("garbage-handshake", "FAIL  start: plugin 'p': invalid handshake line \"Starting up... hello there!\"", "Print nothing on stdout before the handshake line")]
    [InlineData("ignore-shutdown", "FAIL  shutdown: pid", "still ran 5 s after its Shutdown call (its grace_period_ms); a host would kill it")]
    [InlineData("ignore-stdin", "FAIL  stdin: pid", "still ran 5 s after its stdin closed; a host killed with SIGKILL gives no other sign, so this worker would be left running")]
    public async Task APluginThatBreaksTheProtocol_FailsItsCheck_SayingWhatTheHostSawAndTheFix(string mode, string failure, string reason)
    {
        var (code, output) = await CheckAsync(Write(PluginFolders.Test("p", mode)));

        Assert.True(code == 1, output);
        var line = Assert.Single(output.Split('\n'), l => l.Contains(failure, StringComparison.Ordinal));
        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.Contains("skip  route * /*: not called: ", output, StringComparison.Ordinal);
        Assert.EndsWith("FAILED: see the lines marked FAIL", output.TrimEnd(), StringComparison.Ordinal);
        Assert.All(Pids(output), pid => Assert.False(Liveness.IsAlive(pid), $"pid {pid} outlived the check"));
    }

    [Fact]
    public async Task AWebSocketWhoseCloseThePluginNeverAnswers_FailsItsCheck_SayingWhatToDo()
    {
        var manifest = PluginFolders.Test("deaf");
        manifest["routes"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/ws/deaf" });

        var (code, output) = await CheckAsync(Write(manifest));

        Assert.True(code == 1, output);
        Assert.Matches(@"ok    route GET /ws/deaf: 426 in [\d.]+ ms", output);
        Assert.Contains("FAIL  websocket GET /ws/deaf: accepted", output, StringComparison.Ordinal);
        Assert.Contains("no message back within 3 s; the plugin did not answer the host's close within 5 s (PluginHost:WebSocketCloseTimeout): answer a close frame with yours, then end the call", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkerThatAnswersCallsWithoutItsToken_FailsItsCheck_NamingEachCallAnswered()
    {
        var folder = Write(new JsonObject
        {
            ["id"] = "tokenless",
            ["version"] = "1.0.0",
            ["command"] = "/usr/bin/python3",
            ["args"] = new JsonArray(TestPaths.SlowToServePlugin),
            ["hooks"] = new JsonArray("request"),
        });

        var (code, output) = await CheckAsync(folder);

        Assert.True(code == 1, output);
        var line = Assert.Single(output.Split('\n'), l => l.Contains("FAIL  token:", StringComparison.Ordinal));
        Assert.Contains("Health without a token was answered; Describe without a token was answered; Health with a wrong token was answered; Describe with a wrong token was answered.", line, StringComparison.Ordinal);
        Assert.Contains("docs/protocol.md, section 3", line, StringComparison.Ordinal);
        // Answering anyone, it answers another process holding its token too: a warning, as the rule came after the first release.
        Assert.Contains("warn  host only: another process that read PLUGIN_TOKEN from /proc/", output, StringComparison.Ordinal);
        Assert.Contains("ok    hook request", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APluginStartingADaemon_IsToldItsHelperCountsAgainstItsLimits()
    {
        // A native driver's agent in a session of its own: an author may not expect a host to count it.
        var (code, output) = await CheckAsync(Write(PluginFolders.Test("p", "spawn-escapee")));

        Assert.True(code == 0, output);
        Assert.Matches(@"ok    memory: [\d.]+ MiB after the check's calls, \d+ % of its limit of \d+ MiB \(its whole process group, 1 helper in a session of its own included\)", output);
        Assert.Matches(@"ok    threads: \d+ after the check's calls, \d+ % of its limit of 1024 \(its whole process group, 1 helper in a session of its own included\)", output);
    }

    [Fact]
    public async Task SettingsGivenToTheCheck_AreValidatedAndOfferedToThePlugin_ARefusalNamingTheField()
    {
        var folder = Write(PluginFolders.Test("p"));
        var good = Path.Combine(_root, "good.json");
        var bad = Path.Combine(_root, "bad.json");
        await File.WriteAllTextAsync(good, """{"greeting": "hi", "limit": 3}""");
        await File.WriteAllTextAsync(bad, """{"limit": 0}""");

        var (accepted, acceptedOutput) = await CheckAsync(folder, "--settings", good);
        var (refused, refusedOutput) = await CheckAsync(folder, "--settings", bad);

        Assert.True(accepted == 0, acceptedOutput);
        Assert.Contains($"ok    settings: {good} accepted by the schema and by the plugin's Configure, revision 1", acceptedOutput, StringComparison.Ordinal);
        Assert.Equal(1, refused);
        var line = Assert.Single(refusedOutput.Split('\n'), l => l.Contains("FAIL  settings:", StringComparison.Ordinal));
        Assert.Contains("(422)", line, StringComparison.Ordinal);
        Assert.Contains("limit", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APluginWithADependency_IsRefusedAlone_AndChecked_WithTheDependencyGivenBesideIt()
    {
        var dependent = PluginFolders.Test("dependent");
        dependent["dependencies"] = new JsonArray(new JsonObject { ["id"] = "base", ["version"] = "1.0.0" });
        var folder = Write(dependent);
        var dependency = Write(PluginFolders.Test("base"));

        var (alone, aloneOutput) = await CheckAsync(folder);
        var (code, output) = await CheckAsync(folder, "--with", dependency);

        Assert.Equal(1, alone);
        var line = Assert.Single(aloneOutput.Split('\n'), l => l.Contains("FAIL  start: the host refused it:", StringComparison.Ordinal));
        Assert.Contains("base", line, StringComparison.Ordinal);
        Assert.True(code == 0, output);
        Assert.Contains("ok    hook request", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASignedBundle_IsVerifiedAgainstTheKeysGiven_ThenChecked_AndRefusedByKeysThatDoNotSignIt()
    {
        using var bundles = new SignedBundles(Directory.CreateDirectory(Path.Combine(_root, "signed")).FullName);
        var bundle = bundles.Pack("up", "1.0.0");
        var trust = bundles.TrustDirectory();
        var strangers = Directory.CreateDirectory(Path.Combine(_root, "strangers")).FullName;

        var (code, output) = await CheckAsync(bundle, "--trust", trust);
        var (refused, refusedOutput) = await CheckAsync(bundle, "--trust", strangers);
        var (unverified, unverifiedOutput) = await CheckAsync(bundle);

        Assert.True(code == 0, output);
        Assert.Matches(@"ok    bundle: sha256:[0-9a-f]{64}: up 1\.0\.0, \d+ files matching their signed digests, signed by a key in ", output);
        Assert.Contains("ok    hook request", output, StringComparison.Ordinal);
        Assert.Equal(1, refused);
        Assert.Contains("FAIL  bundle: sha256:", refusedOutput, StringComparison.Ordinal);
        Assert.Contains("signed by an unknown key", refusedOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("start:", refusedOutput, StringComparison.Ordinal);
        Assert.True(unverified == 0, unverifiedOutput);
        Assert.Contains("warn  bundle: sha256:", unverifiedOutput, StringComparison.Ordinal);
        Assert.Contains("its signature was not checked; pass --trust", unverifiedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInterruptedCheck_StopsItsWorker_AndSaysSo()
    {
        // A worker still starting when the author presses Ctrl+C; its marker finds it among the machine's processes.
        var marker = "--check-marker-" + Guid.NewGuid().ToString("N");
        var manifest = PluginFolders.Test("slow", "slow-start", "30000", marker);
        // Still starting whenever the interrupt comes, however busy the machine: the check's own 10 s start timeout could end the start first.
        manifest["limits"] = new JsonObject { ["startTimeoutSeconds"] = 120 };
        var folder = Write(manifest);
        var report = Path.Combine(_root, "interrupted.json");
        // Started as from an author's terminal, with SIGINT at its default: a test run started in the
        // background of a script (`make test &`) ignores SIGINT, its children inherit that, and the
        // runtime keeps an inherited ignore even for a registered handler, so no Ctrl+C would arrive.
        var start = new System.Diagnostics.ProcessStartInfo("env", ["--default-signal=INT", "dotnet", TestPaths.Example("src/BundleTool", "GrpcPlugins.BundleTool.dll"), "check", folder, "--report", report])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["TMPDIR"] = _temp },
        };
        using var check = System.Diagnostics.Process.Start(start)!;
        var stdout = check.StandardOutput.ReadToEndAsync();
        var stderr = check.StandardError.ReadToEndAsync();
        try
        {
            await SupervisorTests.WaitUntilAsync(() => ProcessesWith(marker).Count > 0, TimeSpan.FromSeconds(20));
            using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", check.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
            }

            await check.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            if (!check.HasExited)
            {
                check.Kill(entireProcessTree: true);
            }
        }

        Assert.True(check.ExitCode == 130, $"exit code {check.ExitCode}, not 130 (interrupted); it said:\n{await stdout}\n{await stderr}");
        Assert.Contains("interrupted: the check's workers are stopped and its temp directory removed", await stderr, StringComparison.Ordinal);
        Assert.Contains("ok    manifest: slow 1.0.0", await stdout, StringComparison.Ordinal);
        Assert.Empty(ProcessesWith(marker));
        Assert.Empty(CheckTempDirectories());
        var written = JsonNode.Parse(await File.ReadAllTextAsync(report))!;
        Assert.Equal("interrupted", (string?)written["outcome"]);
        Assert.Equal("manifest", (string?)written["steps"]![0]!["step"]);
    }

    [Fact]
    public async Task AReportForMachines_HasEveryStepOfTheLinesForPeople_WithItsVerdictAndWhatItChecked()
    {
        var report = Path.Combine(_root, "report.json");

        var (code, output) = await CheckAsync(Path.Combine(TestPaths.RepoRoot, "examples/python-plugin"), "--report", report);

        Assert.True(code == 0, output);
        var written = JsonNode.Parse(await File.ReadAllTextAsync(report))!;
        Assert.Equal(1, (int?)written["version"]);
        Assert.Equal("passed", (string?)written["outcome"]);
        Assert.Equal(Path.Combine(TestPaths.RepoRoot, "examples/python-plugin"), (string?)written["plugin"]);
        Assert.InRange((long?)written["durationMs"] ?? -1, 1, 60_000);
        var steps = written["steps"]!.AsArray();
        var lines = output.Split('\n').Where(l => StepLinePattern().IsMatch(l)).ToList();
        Assert.Equal(lines.Count, steps.Count);
        foreach (var (line, step) in lines.Zip(steps))
        {
            // The same step as the line, in the same order: "  ok    hook request: detail", "  warn  host log (Warning, …): detail".
            Assert.Contains($"  {step!["step"]}", line, StringComparison.Ordinal);
            Assert.Contains((string?)step["target"] ?? string.Empty, line, StringComparison.Ordinal);
            Assert.EndsWith($": {step["detail"]}", line, StringComparison.Ordinal);
        }

        var hook = Assert.Single(steps, s => (string?)s!["step"] == "hook")!;
        Assert.Equal("request", (string?)hook["target"]);
        Assert.Equal("passed", (string?)hook["verdict"]);
        Assert.Equal("skipped", (string?)Assert.Single(steps, s => (string?)s!["target"] == "POST /count")!["verdict"]);
        Assert.Equal("warned", (string?)Assert.Single(steps, s => (string?)s!["step"] == "host log")!["verdict"]);
    }

    [Fact]
    public async Task AFailedCheck_ReportsItsFailure_WithTheFixTheLineGives()
    {
        var report = Path.Combine(_root, "failed.json");

        var (code, output) = await CheckAsync(Write(PluginFolders.Test("p", "error-in-hook")), "--report", report);
        var (unwritable, told) = await CheckAsync(Path.Combine(TestPaths.RepoRoot, "examples/python-plugin"), "--report", Path.Combine(_root, "no-such-directory", "report.json"));

        Assert.Equal(1, code);
        var written = JsonNode.Parse(await File.ReadAllTextAsync(report))!;
        Assert.Equal("failed", (string?)written["outcome"]);
        var hook = Assert.Single(written["steps"]!.AsArray(), s => (string?)s!["step"] == "hook")!;
        Assert.Equal("failed", (string?)hook["verdict"]);
        Assert.Contains($"FAIL  hook request: {hook["detail"]}", output, StringComparison.Ordinal);
        Assert.Equal(2, unwritable);
        Assert.Contains("--report", told, StringComparison.Ordinal);
        Assert.Contains("no-such-directory does not exist", told, StringComparison.Ordinal);
        Assert.False(File.Exists(report + ".tmp"));
    }

    [Fact]
    public async Task RoutesTheCheckCannotCallByItself_AreCalledAsTheAuthorAsks_EachJudgedAsARoute()
    {
        var order = Path.Combine(_root, "order.json");
        await File.WriteAllTextAsync(order, """{"n":1}""");
        var folder = Write(PluginFolders.Test("p"));

        var (code, output) = await CheckAsync(
            folder, "--call", "GET /items/42/parts/wheel", "--call", $"POST /echo/orders?x=1 {order}", "--call", $"PUT /echo/orders/2 @{order}",
            "--call", """POST /echo/inline {"note": "a body in the line, spaces kept"}""", "--call", "GET /throw", "--call", "DELETE /nowhere");
        var (badSyntax, told) = await CheckAsync(folder, "--call", "get /x");
        var (noBody, toldBody) = await CheckAsync(folder, "--call", "POST /echo/x @" + Path.Combine(_root, "missing.json"));

        Assert.Equal(1, code);
        Assert.Contains("skip  route * /*: not called: it needs parameters the check cannot guess; call it with --call \"<METHOD> </path[?query]> [@<body-file> | <body>]\"", output, StringComparison.Ordinal);
        Assert.Matches(@"ok    call GET /items/42/parts/wheel: 200 in [\d.]+ ms, \d+ bytes of application/json", output);
        Assert.Matches(@"ok    call POST /echo/orders\?x=1: 200 in [\d.]+ ms", output);
        Assert.Matches(@"ok    call PUT /echo/orders/2: 200 in [\d.]+ ms", output);
        Assert.Matches(@"ok    call POST /echo/inline: 200 in [\d.]+ ms, \d+ bytes of application/json", output);
        Assert.Contains("FAIL  call GET /throw: ", output, StringComparison.Ordinal);
        Assert.Contains("warn  call DELETE /nowhere: 404 in", output, StringComparison.Ordinal);
        Assert.Contains("no route of its manifest takes DELETE /nowhere, or the plugin answered so itself", output, StringComparison.Ordinal);
        Assert.Equal(2, badSyntax);
        Assert.Contains("--call 'get /x': expected", told, StringComparison.Ordinal);
        Assert.Equal(2, noBody);
        Assert.Contains("missing.json does not exist", toldBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingFolderOrAnUnknownOption_IsAUsageError()
    {
        var (none, noneOutput) = await RunAsync(["check"]);
        var (unknown, unknownOutput) = await RunAsync(["check", _root, "--fast", "yes"]);
        var (missing, missingOutput) = await CheckAsync(Path.Combine(_root, "nothing-here"));

        Assert.Equal(2, none);
        Assert.Contains("error: no plugin folder given", noneOutput, StringComparison.Ordinal);
        Assert.Equal(2, unknown);
        Assert.Contains("error: unknown option --fast", unknownOutput, StringComparison.Ordinal);
        Assert.Equal(1, missing);
        Assert.Contains("FAIL  manifest:", missingOutput, StringComparison.Ordinal);
    }

    private string Write(JsonObject manifest)
    {
        PluginFolders.Write(_root, manifest);
        return Path.Combine(_root, manifest["id"]!.GetValue<string>());
    }

    private async Task<(int Code, string Output)> CheckAsync(string folder, params string[] options)
    {
        var result = await RunAsync(["check", folder, .. options]);
        // Passed or failed, a check leaves no temp directory behind.
        Assert.True(CheckTempDirectories().Count == 0, $"the check left {string.Join(", ", CheckTempDirectories())}; it said:\n{result.Output}");
        return result;
    }

    private Task<(int Code, string Output)> RunAsync(string[] args) =>
        DotnetCli.RunAsync([TestPaths.Example("src/BundleTool", "GrpcPlugins.BundleTool.dll"), .. args], TestPaths.RepoRoot, TimeSpan.FromMinutes(1), _temp);

    private List<string> CheckTempDirectories() => [.. Directory.EnumerateDirectories(_temp, "gpc-*")];

    private static List<int> ProcessesWith(string marker) =>
        [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => int.TryParse(n, out _)).Where(n =>
        {
            try
            {
                return File.ReadAllText($"/proc/{n}/cmdline").Contains(marker, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        }).Select(n => int.Parse(n!, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Every worker pid the report names (the one started again for the stdin check too).</summary>
    private static IReadOnlyList<int> Pids(string output) =>
        [.. PidPattern().Matches(output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct()];

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();

    [GeneratedRegex(@"^  (ok  |FAIL|warn|skip)  ")]
    private static partial Regex StepLinePattern();
}
