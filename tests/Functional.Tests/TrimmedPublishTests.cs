using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Runs alone: a self-contained, trimmed publish keeps both cores busy for a minute.</summary>
[CollectionDefinition(nameof(TrimmedPublishTests), DisableParallelization = true)]
public sealed class TrimmedPublishCollection;

/// <summary>
/// The fastest and smallest JIT publish the Sdk's defaults give (build/GrpcPlugins.Sdk.targets):
/// self-contained and trimmed, compiled as one composite ReadyToRun image. Trimming removes what
/// the trimmer cannot see used, so the plugin is run through every kind of call.
/// </summary>
[Collection(nameof(TrimmedPublishTests))]
public sealed class TrimmedPublishTests
{
    [Fact]
    public async Task SelfContainedTrimmedPublish_IsOneCompositeImage_AndServesHooksRoutesAndSettings()
    {
        var work = Directory.CreateTempSubdirectory("gpt-trim-").FullName;
        try
        {
            // Intermediates under build/ (make clean removes them), so a second run is incremental.
            var output = Path.Combine(work, "out");
            var (code, log) = await DotnetCli.RunAsync(
                ["publish", Path.Combine(TestPaths.RepoRoot, "tests/TestPlugin"), "-c", "Release", "--use-current-runtime", "--self-contained", "-p:PublishTrimmed=true",
                 "--artifacts-path", Path.Combine(TestPaths.RepoRoot, "build/test-trimmed"), "-o", output, "--nologo", "-v", "q"],
                TestPaths.RepoRoot,
                TimeSpan.FromMinutes(8));
            Assert.True(code == 0, log);
            Assert.DoesNotContain("warning IL", log, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(output, "TestPlugin.r2r.dll")), $"no composite ReadyToRun image in {output}: the Sdk's default did not apply");
            // The runtime's event sources are off, as under NativeAOT (build/GrpcPlugins.Sdk.targets).
            var runtimeConfig = await File.ReadAllTextAsync(Path.Combine(output, "TestPlugin.runtimeconfig.json"));
            Assert.Contains("\"System.Diagnostics.Tracing.EventSource.IsSupported\": false", runtimeConfig, StringComparison.Ordinal);
            // So is attached-worker support, whose HTTPS a spawned worker never uses; asked to serve attached, it says how to publish it.
            Assert.Contains("\"GrpcPlugins.Sdk.AttachedWorkers\": false", runtimeConfig, StringComparison.Ordinal);
            var (attachedCode, attachedError) = await RunAttachedAsync(Path.Combine(output, "TestPlugin"));
            Assert.Equal(1, attachedCode);
            Assert.Contains("published without attached-worker support", attachedError, StringComparison.Ordinal);
            Assert.Contains("<GrpcPluginsAttachedWorkers>true</GrpcPluginsAttachedWorkers>", attachedError, StringComparison.Ordinal);

            var manifest = PluginFolders.Test("trimmed");
            manifest["command"] = Path.Combine(output, "TestPlugin");
            manifest["args"] = new JsonArray("normal");
            // The runtime lists every method it compiles at run time (a release runtime's switch).
            var compiledAtRunTime = Path.Combine(work, "jit.txt");
            await using (var host = await TestHost.StartAsync([manifest], o =>
            {
                o.WorkerEnvironment["DOTNET_JitDisasmSummary"] = "1";
                o.WorkerEnvironment["DOTNET_JitStdOutFile"] = compiledAtRunTime;
            }))
            {
                await ServesEveryKindOfCallAsync(host);
            }

            // The runtime's own start-up code arrives compiled only when the start-up profile
            // went into the composite image (build/GrpcPlugins.Sdk.targets): without it, the
            // first method the runtime runs, AppContext.Setup, is compiled at run time.
            var compiled = await File.ReadAllTextAsync(compiledAtRunTime);
            Assert.Contains("JIT compiled", compiled, StringComparison.Ordinal);
            Assert.DoesNotContain("System.AppContext:Setup(", compiled, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(int Code, string Error)> RunAttachedAsync(string executable)
    {
        var start = new System.Diagnostics.ProcessStartInfo(executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment[GrpcPlugins.Protocol.HandshakeEnvironment.AttachListen] = "127.0.0.1:1";
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await error);
    }

    private static async Task ServesEveryKindOfCallAsync(TestHost host)
    {
        await host.WaitForStateAsync("trimmed", WorkerState.Ready);

        var hook = Assert.IsType<HookOutcome.Continued>(await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("in")));
        Assert.Empty(hook.Skipped);
        Assert.Equal("in|trimmed", Encoding.UTF8.GetString(hook.Body.Span));

        var whoami = await host.Admin.GetFromJsonAsync<JsonElement>("/plugins/trimmed/whoami");
        Assert.Equal("trimmed", whoami.GetProperty("id").GetString());

        // A route that calls back into the host for its settings: the Sdk's host client, trimmed too.
        var put = await host.Admin.PutAsync("/admin/api/plugins/trimmed/settings", new StringContent("""{"greeting":"hi"}""", Encoding.UTF8, "application/json"));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var settings = await host.Admin.GetStringAsync("/plugins/trimmed/settings");
        Assert.Contains("\"greeting\":\"hi\"", settings.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
