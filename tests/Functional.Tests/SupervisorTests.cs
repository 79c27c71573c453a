using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Host.Calls;
using GrpcPlugins.Host.Hooks;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Restarts, the breaker, limits and timeouts, against real misbehaving workers.</summary>
public sealed class SupervisorTests
{
    private static readonly HookPoint s_shortDeadline = new("request", HookFailureMode.FailOpen, TimeSpan.FromMilliseconds(300));

    [Fact]
    public async Task CrashedWorker_IsRestarted_WithANewPid_AndTheExitIsKept()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("crashy", "exit-after", "1"));
        var first = await host.WaitForStateAsync("crashy", WorkerState.Ready);

        var outcome = await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));
        Assert.Equal(CallFailureKind.Crashed, Assert.Single(outcome.Skipped).Kind);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        WorkerSnapshot second;
        do
        {
            second = await host.WaitForStateAsync("crashy", WorkerState.Ready);
        }
        while (second.Pid == first.Pid && DateTime.UtcNow < deadline);

        Assert.NotEqual(first.Pid, second.Pid);
        Assert.Equal(1, second.Restarts);
        Assert.Equal(9, second.LastExit!.ExitCode);
    }

    [Fact]
    public async Task CrashLoop_TripsTheBreaker_KeepsTheReason_UntilAnAdminEnablesIt()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("looping", "crash-at-start")], o => o.MaxRestarts = 2);
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors
        var snapshot = await host.WaitForStateAsync("looping", WorkerState.CrashLooping);

        Assert.Contains("crash loop: 3 restarts within 60 s (limit 2)", snapshot.LastError, StringComparison.Ordinal);
        Assert.Contains("cannot open my database", snapshot.LastError, StringComparison.Ordinal);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/looping");
        Assert.Equal("CrashLooping", view.GetProperty("state").GetString());
        Assert.Equal("Unhealthy", view.GetProperty("health").GetString());
        await Task.Delay(500);
        Assert.Equal(WorkerState.CrashLooping, host.Supervisor("looping").Snapshot.State);

        var enable = await host.Admin.PostAsync("/admin/api/plugins/looping/enable", null);

        enable.EnsureSuccessStatusCode();
        // The enable's fresh start may not have begun yet: the old crash loop is not the new one.
        await host.WaitForAsync("looping", s => s.State == WorkerState.CrashLooping && s.Restarts >= 4, "a second crash loop");
        Assert.True(host.Supervisor("looping").Snapshot.Restarts >= 4);
    }

    [Fact]
    public async Task TemporaryPlugin_IsNotRestarted()
    {
        var manifest = PluginFolders.Test("oneshot", "exit-after", "1");
        manifest["restart"] = "temporary";
        await using var host = await TestHost.StartAsync(manifest);
        await host.WaitForStateAsync("oneshot", WorkerState.Ready);

        await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));

        var snapshot = await host.WaitForStateAsync("oneshot", WorkerState.Exited);
        Assert.Equal(0, snapshot.Restarts);
    }

    [Fact]
    public async Task Restart_OfAPluginItsSupervisorLetGo_StartsItAfresh()
    {
        var manifest = PluginFolders.Test("oneshot", "exit-after", "1");
        manifest["restart"] = "temporary";
        await using var host = await TestHost.StartAsync(manifest);
        var first = await host.WaitForStateAsync("oneshot", WorkerState.Ready);
        await host.Hooks.DispatchAsync(TestHost.Request, WalkingSkeletonTests.Input("x"));
        await host.WaitForStateAsync("oneshot", WorkerState.Exited);

        var restart = await host.Admin.PostAsync("/admin/api/plugins/oneshot/restart", null);

        Assert.Equal(System.Net.HttpStatusCode.Accepted, restart.StatusCode);
        var again = await host.WaitForStateAsync("oneshot", WorkerState.Ready);
        Assert.NotEqual(first.Pid, again.Pid);
    }

    [Fact]
    public async Task Restart_OfADisabledPlugin_IsRefused_AndNotHeldOverToItsNextStart()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        await host.WaitForStateAsync("t", WorkerState.Ready);
        (await host.Admin.PostAsync("/admin/api/plugins/t/disable", null)).EnsureSuccessStatusCode();

        var restart = await host.Admin.PostAsync("/admin/api/plugins/t/restart", null);
        (await host.Admin.PostAsync("/admin/api/plugins/t/enable", null)).EnsureSuccessStatusCode();
        var ready = await host.WaitForStateAsync("t", WorkerState.Ready);
        // A restart held over would fire as soon as the worker is Ready; give it the time to.
        await Task.Delay(500);

        Assert.Equal(System.Net.HttpStatusCode.Conflict, restart.StatusCode);
        Assert.Contains("'t' is disabled", await restart.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(WorkerState.Ready, host.Supervisor("t").Snapshot.State);
        Assert.Equal(ready.Pid, host.Supervisor("t").Snapshot.Pid);
    }

    [Fact]
    public async Task MemoryHog_IsKilledAtItsLimit_AndTheBreachIsReported()
    {
        var manifest = PluginFolders.Test("hog", "memory-hog");
        manifest["limits"] = new JsonObject { ["memoryMiB"] = 160 };
        await using var host = await TestHost.StartAsync([manifest], o => o.MaxRestarts = 0);
        host.ExpectErrors = true; // a deliberately broken or refused plugin logs errors

        var snapshot = await host.WaitForStateAsync("hog", WorkerState.CrashLooping);

        Assert.Matches(@"memory limit exceeded: \d+ MiB > 160 MiB", snapshot.LastError);
    }

    [Fact]
    public async Task APluginStartingHelpersAllTheTime_IsNotKilledForTheMemoryAHelperSharesWithItBeforeItsExec()
    {
        // About 120 MiB of its own against 200: a helper between its fork and its exec shows the
        // same pages again, and summed with them the group looked past its limit.
        var manifest = PluginFolders.Test("spawner", "spawn-often");
        manifest["limits"] = new JsonObject { ["memoryMiB"] = 200 };
        await using var host = await TestHost.StartAsync([manifest], o => o.MaxRestarts = 0);
        var ready = await host.WaitForStateAsync("spawner", WorkerState.Ready);

        await Task.Delay(TimeSpan.FromSeconds(8)); // 32 readings of its group
        var now = host.Supervisor("spawner").Snapshot;

        Assert.True(now.State == WorkerState.Ready && now.Pid == ready.Pid, $"{now.State}, pid {now.Pid} (was {ready.Pid}): {now.LastError}");
        Assert.InRange(now.MemoryBytes, 64L * 1024 * 1024, 200L * 1024 * 1024);
    }

    [Fact]
    public async Task FrozenWorker_FailsItsHealthProbes_AndIsRestartedAsUnresponsive()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("frozen")], o => o.HealthFailureThreshold = 2);
        var first = await host.WaitForStateAsync("frozen", WorkerState.Ready);

        ProcessSignals.SignalProcess(first.Pid!.Value, 19 /* SIGSTOP */);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (host.Supervisor("frozen").Snapshot.LastError is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Contains("unresponsive: 2 health probes failed", host.Supervisor("frozen").Snapshot.LastError, StringComparison.Ordinal);
        // A stopped process answers nothing: each probe ran out its time, and the error says so.
        Assert.Contains("the last got DeadlineExceeded", host.Supervisor("frozen").Snapshot.LastError, StringComparison.Ordinal);
        var second = await host.WaitForStateAsync("frozen", WorkerState.Ready);
        Assert.NotEqual(first.Pid, second.Pid);
        Assert.False(Liveness.IsAlive(first.Pid!.Value));
    }

    [Fact]
    public async Task HookThatHangs_IsCutAtItsDeadline_AndSkippedWhenFailOpen()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("hangs", "hang-in-hook"));
        await host.WaitForStateAsync("hangs", WorkerState.Ready);
        var watch = Stopwatch.StartNew();

        var outcome = await host.Hooks.DispatchAsync(s_shortDeadline, WalkingSkeletonTests.Input("x"));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Equal(CallFailureKind.TimedOut, Assert.Single(Assert.IsType<HookOutcome.Continued>(outcome).Skipped).Kind);
    }

    [Fact]
    public async Task CallsDuringARestart_FailFast_AsUnavailable()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Test("restarting", "slow-start", "3000")], o => o.StartTimeout = TimeSpan.FromSeconds(20));
        await host.WaitForStateAsync("restarting", WorkerState.Starting);
        var watch = Stopwatch.StartNew();

        var outcome = await host.Hooks.DispatchAsync(TestHost.RequestClosed, WalkingSkeletonTests.Input("x"));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.Equal(503, Assert.IsType<HookOutcome.Failed>(outcome).Failure.StatusCode);
        await host.WaitForStateAsync("restarting", WorkerState.Ready);
    }

    [Fact]
    public async Task WorkerThatIgnoresShutdown_IsKilledAfterTheGracePeriod()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("stubborn", "ignore-shutdown"));
        var ready = await host.WaitForStateAsync("stubborn", WorkerState.Ready);
        var supervisor = host.Supervisor("stubborn");
        var watch = Stopwatch.StartNew();

        await host.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stop took {watch.Elapsed}");
        Assert.False(Liveness.IsAlive(ready.Pid!.Value));
        // Said where an admin looks, not only done: the plugin lost whatever it had not written.
        Assert.Equal(9, supervisor.Snapshot.LastExit!.Signal);
        Assert.Equal("did not exit within its shutdown grace of 2 s after Shutdown and its stdin closing; killed", supervisor.Snapshot.LastError);
    }

    [Fact]
    public async Task AKilledDotnetWorker_LeavesNoRuntimeSocketOrPipesInItsTempDirectory()
    {
        // Its own TMPDIR, so that only this worker's files are there to see.
        var temp = Directory.CreateTempSubdirectory("gpt-tmp-").FullName;
        try
        {
            var manifest = PluginFolders.Test("killed");
            // Diagnostics on whatever the machine's environment says: they are what makes the files.
            manifest["env"] = new JsonObject { ["TMPDIR"] = temp, ["DOTNET_EnableDiagnostics"] = "1" };
            await using var host = await TestHost.StartAsync(manifest);
            var first = (await host.WaitForStateAsync("killed", WorkerState.Ready)).Pid!.Value;
            string[] RuntimeFilesOf(int pid) => [.. Directory.EnumerateFileSystemEntries(temp, $"*-{pid}-*").Select(Path.GetFileName)!];
            // The runtime's diagnostic socket and its debugger's pipes, which it removes only at a clean exit.
            Assert.Equal(3, RuntimeFilesOf(first).Length);

            using (var worker = Process.GetProcessById(first))
            {
                worker.Kill();
            }

            var deadline = DateTime.UtcNow.AddSeconds(30);
            WorkerSnapshot next;
            do
            {
                next = await host.WaitForStateAsync("killed", WorkerState.Ready);
            }
            while (next.Pid == first && DateTime.UtcNow < deadline);

            Assert.Equal(9, next.LastExit!.Signal);
            Assert.True(RuntimeFilesOf(first).Length == 0, $"left by the killed worker: {string.Join(", ", RuntimeFilesOf(first))}");
            Assert.Equal(3, RuntimeFilesOf(next.Pid!.Value).Length);
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [Fact]
    public async Task AWorkerThatExitsWhenAsked_LeavesItsCleanExitAndNoError()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("polite"));
        await host.WaitForStateAsync("polite", WorkerState.Ready);
        var supervisor = host.Supervisor("polite");

        await host.DisposeAsync();

        Assert.True(supervisor.Snapshot.LastExit!.IsClean, supervisor.Snapshot.LastExit.ToString());
        Assert.Null(supervisor.Snapshot.LastError);
    }

    [Fact]
    public async Task AHostDisposedWithoutBeingStopped_StillEndsItsWorkers()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        var ready = await host.WaitForStateAsync("t", WorkerState.Ready);

        // As a host whose start was cut short is: its services disposed, its stop never run.
        host.DisposesWithoutStopping = true;
        await host.DisposeAsync();

        Assert.False(Liveness.IsAlive(ready.Pid!.Value), $"worker {ready.Pid} outlived its host's services");
    }

    [Fact]
    public async Task AnAssemblyPlugin_WithoutThePluginWorker_FailsItsStart_NamingTheOptionToSet()
    {
        // A long first backoff: on a busy machine six quick restarts could end in the crash loop's message before the test looks.
        await using var host = await TestHost.StartAsync([PluginFolders.Hello()], o =>
        {
            o.WorkerPath = "/nonexistent/GrpcPlugins.PluginWorker.dll";
            o.RestartInitialBackoff = o.RestartMaxBackoff = TimeSpan.FromSeconds(30);
        });
        host.ExpectErrors = true; // its restarts end in a crash loop, an error

        var failed = await host.WaitForAsync("hello", s => s.LastError is not null, "a start failure");

        Assert.Equal("cannot run '" + GrpcPlugins.Host.Hosting.DotnetHost.Path + "': /nonexistent/GrpcPlugins.PluginWorker.dll does not exist. A plugin with an 'assembly' runs under PluginWorker: set PluginHost:WorkerPath to the published GrpcPlugins.PluginWorker.dll (make plugins publishes it to build/worker).", failed.LastError);
        Assert.Empty(host.SeenPids);
    }

    [Fact]
    public async Task Grandchildren_DieWithTheirWorker()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("parent", "spawn-grandchildren"));
        var ready = await host.WaitForStateAsync("parent", WorkerState.Ready);
        var grandchildren = GrandchildPids(ready.Pid!.Value);
        Assert.Equal(3, grandchildren.Count);

        await host.DisposeAsync();

        await WaitUntilAsync(() => grandchildren.All(pid => !Liveness.IsAlive(pid)), TimeSpan.FromSeconds(5));
        Assert.All(grandchildren, pid => Assert.False(Liveness.IsAlive(pid), $"grandchild {pid} survived"));
    }

    [Fact]
    public async Task AHelperThatLeftTheWorkersGroup_IsKilledWithItsWorker_AndTheWorkersCrashIsStillSeen()
    {
        var host = await TestHost.StartAsync(PluginFolders.Test("daemon", "spawn-escapee"));
        var escapees = new List<int>();
        try
        {
            var first = await host.WaitForStateAsync("daemon", WorkerState.Ready);
            var escapee = EscapeePid(first);
            escapees.Add(escapee);
            Assert.NotEqual(first.Pid, Liveness.Group(escapee));

            // The worker dies while its helper holds the worker's stdout and stderr open.
            KillQuietly(first.Pid!.Value);
            var second = await host.WaitForAsync("daemon", s => s.State == WorkerState.Ready && s.Pid != first.Pid, "a new worker after the crash", TimeSpan.FromSeconds(30));
            escapees.Add(EscapeePid(second));
            await WaitUntilAsync(() => !Liveness.IsAlive(escapee), TimeSpan.FromSeconds(5));
            Assert.False(Liveness.IsAlive(escapee), $"the crashed worker's helper {escapee} survived it");

            await host.DisposeAsync();

            await WaitUntilAsync(() => !Liveness.IsAlive(escapees[1]), TimeSpan.FromSeconds(5));
            Assert.False(Liveness.IsAlive(escapees[1]), $"the stopped worker's helper {escapees[1]} survived the host");
        }
        finally
        {
            await host.DisposeAsync();
            escapees.ForEach(KillQuietly);
        }
    }

    [Fact]
    public async Task TheLedgerAHostWasKilledWith_LetsTheNextStartKillItsWorkersAndTheirHelpers_WithoutHoldingTheToken()
    {
        var host = await TestHost.StartAsync([PluginFolders.Test("daemon", "spawn-escapee")], o => o.MaxRestarts = 0);
        var helper = 0;
        try
        {
            host.ExpectErrors = true; // its worker is killed under it
            var ready = await host.WaitForStateAsync("daemon", WorkerState.Ready);
            helper = EscapeePid(ready);
            var token = File.ReadAllText($"/proc/{ready.Pid}/environ").Split('\0').Single(e => e.StartsWith("PLUGIN_TOKEN=", StringComparison.Ordinal));
            // The ledger as a host killed now would leave it, read by its next start.
            var left = Path.Combine(host.Root, "killed-host.ledger");
            File.Copy(host.Services.GetRequiredService<WorkerLedger>().Path, left);
            var written = File.ReadAllText(left);

            var reaping = new WorkerLedger(left).ReapLeftovers();

            Assert.Contains($"{ready.Pid} ", written, StringComparison.Ordinal);
            Assert.DoesNotContain(token["PLUGIN_TOKEN=".Length..], written, StringComparison.Ordinal);
            Assert.Equal(ready.Pid, Assert.Single(reaping.Workers).Pid);
            Assert.Equal([helper], reaping.Helpers);
            await WaitUntilAsync(() => !Liveness.IsAlive(helper), TimeSpan.FromSeconds(5));
            Assert.False(Liveness.IsAlive(helper), $"the helper {helper} survived the reaping");
        }
        finally
        {
            await host.DisposeAsync();
            if (helper != 0)
            {
                KillQuietly(helper);
            }
        }
    }

    [Fact]
    public async Task AHelperThatLeftTheWorkersGroup_CountsAgainstItsWorkersMemoryLimit_AndBothAreKilledAtIt()
    {
        // No cgroup given to the host: the watchdog alone holds the limit. A helper in a session
        // of its own was outside the group it sums, and took memory without end.
        var manifest = PluginFolders.Test("daemon", "spawn-hogging-escapee");
        manifest["limits"] = new JsonObject { ["memoryMiB"] = 300 };
        var host = await TestHost.StartAsync([manifest], o => o.MaxRestarts = 0);
        var helper = 0;
        try
        {
            host.ExpectErrors = true; // killed on purpose
            var ready = await host.WaitForStateAsync("daemon", WorkerState.Ready);
            helper = EscapeePid(ready);
            Assert.NotEqual(ready.Pid, Liveness.Group(helper));
            // Shown while it runs, before it takes anything.
            await ReplicaTests.Until(async () => (await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/daemon")).GetProperty("helpers").GetInt32() == 1, "the helper counted in the admin view");
            Assert.Matches("plugin_helpers\\{[^}]*plugin=\"daemon\"[^}]*\\} 1", await host.Client.GetStringAsync("/metrics"));

            var snapshot = await host.WaitForStateAsync("daemon", WorkerState.CrashLooping, TimeSpan.FromSeconds(30));

            // Said so: the worker alone holds a fraction of it, and the admin must look at the daemon.
            Assert.Matches(@"memory limit exceeded: \d+ MiB > 300 MiB in worker pid \d+'s process group and its (\d+ )?helpers? in (a session of its|sessions of their) own \(\d+ MiB of it\)\. Raise limits\.memoryMiB", snapshot.LastError);
            // The crash loop's message quotes the cause's sentence without doubling its full stop.
            Assert.EndsWith("or fix its memory use. Fix the plugin, then enable it again.", snapshot.LastError, StringComparison.Ordinal);
            await WaitUntilAsync(() => !Liveness.IsAlive(helper), TimeSpan.FromSeconds(5));
            Assert.False(Liveness.IsAlive(helper), $"the helper {helper} survived its worker");
        }
        finally
        {
            await host.DisposeAsync();
            if (helper != 0)
            {
                KillQuietly(helper);
            }
        }
    }

    private static void KillQuietly(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // Gone already.
        }
    }

    // The helper's pid, as the test plugin's spawn-escapee modes say it on stderr.
    internal static int EscapeePid(WorkerSnapshot snapshot) =>
        snapshot.StderrTail.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"escapee pid (\d+)")).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Last();

    [Fact]
    public async Task StderrFlood_LeavesTheHostServing_AndDropsAreCounted()
    {
        await using var host = await TestHost.StartAsync([PluginFolders.Hello(), PluginFolders.Test("flood", "flood-stderr")], o => o.StartTimeout = TimeSpan.FromSeconds(60));

        var snapshot = await host.WaitForStateAsync("flood", WorkerState.Ready, TimeSpan.FromSeconds(60));

        Assert.True(snapshot.StderrLinesDropped > 1000, $"dropped {snapshot.StderrLinesDropped}");
        Assert.All(snapshot.StderrTail, line => Assert.True(line.Length < 5000));
        await host.WaitForStateAsync("hello", WorkerState.Ready);
        (await host.Client.GetAsync("/plugins/hello/ping")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task StdoutFloodAfterTheHandshake_IsRateLimitedAsStderrIs_AndDropsAreCounted()
    {
        var warnings = new ErrorLogCollector(Microsoft.Extensions.Logging.LogLevel.Warning);
        await using var host = await TestHost.StartAsync(
            [PluginFolders.Hello(), PluginFolders.Test("printer")],
            configure: null,
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(warnings));
        await host.WaitForStateAsync("printer", WorkerState.Ready);

        // Drained as it is written: the worker's print loop is never held on a full pipe.
        var printed = await host.Admin.PostAsync("/plugins/printer/print?lines=30000", null);

        Assert.Equal("printed 30000", await printed.Content.ReadAsStringAsync());
        int Logged() => warnings.Errors.Count(line => line.Contains("[PluginUnexpectedStdout]", StringComparison.Ordinal));
        var snapshot = await host.WaitForAsync("printer", s => s.StdoutLinesDropped + Logged() == 30000, "every line logged or dropped", TimeSpan.FromSeconds(30));
        var dropped = snapshot.StdoutLinesDropped;
        Assert.InRange(Logged(), 1000, 5000); // the burst, and what the rate refilled while the rest went by
        Assert.True(dropped >= 25000, $"dropped {dropped}");
        Assert.Equal(0, host.Supervisor("printer").Snapshot.StderrLinesDropped);
        var view = await host.Admin.GetFromJsonAsync<JsonElement>("/admin/api/plugins/printer");
        Assert.Equal(dropped, view.GetProperty("stdoutLinesDropped").GetInt64());
        (await host.Client.GetAsync("/plugins/hello/ping")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task SlowStart_WithinTheTimeout_BecomesReady()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("slow", "slow-start", "1500"));

        var snapshot = await host.WaitForStateAsync("slow", WorkerState.Ready);

        Assert.Equal(0, snapshot.Restarts);
    }

    [Fact]
    public async Task KilledHost_ItsWorkersExitWithinOneSecond()
    {
        var root = Directory.CreateTempSubdirectory("gpt-kill-").FullName;
        try
        {
            PluginFolders.Write(Path.Combine(root, "plugins"), PluginFolders.Hello());
            int worker;
            await using (var host = await HostProcess.StartAsync(root))
            {
                using var client = new HttpClient { BaseAddress = host.Address };
                worker = await WaitForPingAsync(client);

                await host.KillAsync();
                var watch = Stopwatch.StartNew();
                await WaitUntilAsync(() => !Liveness.IsAlive(worker), TimeSpan.FromSeconds(5));

                Assert.True(watch.Elapsed <= TimeSpan.FromSeconds(1), $"worker {worker} took {watch.Elapsed} to exit after the host's SIGKILL");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task WorkerThatOutlivesAKilledHost_IsReapedAtTheNextStart()
    {
        var root = Directory.CreateTempSubdirectory("gpt-reap-").FullName;
        var orphan = 0;
        try
        {
            var stubborn = PluginFolders.Test("stubborn", "ignore-shutdown");
            // Diagnostics on whatever the machine's environment says: they make the runtime files the reaping removes.
            stubborn["env"] = new JsonObject { ["DOTNET_EnableDiagnostics"] = "1" };
            PluginFolders.Write(Path.Combine(root, "plugins"), stubborn);
            await using (var host = await HostProcess.StartAsync(root))
            {
                using var client = new HttpClient { BaseAddress = host.Address };
                client.DefaultRequestHeaders.Add("X-Api-Key", TestHost.AdminKey);
                orphan = await WaitForPidAsync(client, "stubborn");
                await host.KillAsync();
            }

            await Task.Delay(1500);
            Assert.True(Liveness.IsAlive(orphan), "the stubborn worker should have outlived its host");

            // The runtime's diagnostic socket and debugger pipes, which its kill will leave. Its
            // exit has begun (stdin closed) and stopped in this mode's hang, so some may be gone already.
            string[] RuntimeFilesOfOrphan() => [.. Directory.EnumerateFileSystemEntries(HostProcess.TempDirectory(root), $"*-{orphan}-*")];
            Assert.NotEmpty(RuntimeFilesOfOrphan());

            await using (var again = await HostProcess.StartAsync(root))
            {
                await WaitUntilAsync(() => !Liveness.IsAlive(orphan), TimeSpan.FromSeconds(5));
                Assert.False(Liveness.IsAlive(orphan), $"orphan {orphan} was not reaped");
                Assert.True(RuntimeFilesOfOrphan().Length == 0, $"the reaped orphan left {string.Join(", ", RuntimeFilesOfOrphan())}");
            }
        }
        finally
        {
            // A failure before the second host's start leaves an orphan that ignores its stdin and Shutdown alike.
            if (orphan > 0 && Liveness.IsAlive(orphan))
            {
                ProcessSignals.SignalGroup(orphan, ProcessSignals.SigKill);
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<int> WaitForPingAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await client.GetAsync("/plugins/hello/ping");
            if (response.IsSuccessStatusCode)
            {
                return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("pid").GetInt32();
            }

            Assert.True(DateTime.UtcNow < deadline, $"hello never answered: {response.StatusCode}");
            await Task.Delay(100);
        }
    }

    private static async Task<int> WaitForPidAsync(HttpClient admin, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var view = await admin.GetFromJsonAsync<JsonElement>($"/admin/api/plugins/{id}");
            if (view.GetProperty("state").GetString() == "Ready")
            {
                return view.GetProperty("pid").GetInt32();
            }

            Assert.True(DateTime.UtcNow < deadline, $"{id} never became Ready: {view}");
            await Task.Delay(100);
        }
    }

    private static List<int> GrandchildPids(int workerPid) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && pid != workerPid && Liveness.Group(pid) == workerPid)];

    internal static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }
}
