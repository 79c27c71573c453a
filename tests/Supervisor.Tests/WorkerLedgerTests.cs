using System.Diagnostics;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

/// <summary>The ledger's reaping of a previous run's workers, on real processes and files.</summary>
public sealed class WorkerLedgerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gpt-ledger-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // A worker leads its own process group, which is what the ledger kills: setsid makes the group,
    // then execs sleep in the same pid, so once the pid is sleep, the group is there.
    private static Process StartOrphan()
    {
        var process = Process.Start("/usr/bin/setsid", ["sleep", "60"]);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.ReadAllText($"/proc/{process.Id}/comm").StartsWith("sleep", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
        }

        return process;
    }

    [Fact]
    public async Task AListedWorkerStillRunning_IsKilled_AndTheRuntimeFilesInItsTempDirectoryAreRemoved()
    {
        using var orphan = StartOrphan();
        try
        {
            var ledger = new WorkerLedger(Path.Combine(_root, "workers.ledger"));
            var leftovers = new RuntimeLeftovers(_root, orphan.Id, ProcessStartTime.Read(orphan.Id)!.Value);
            ledger.Add(leftovers, "stubborn");
            foreach (var path in leftovers.Paths)
            {
                await File.WriteAllTextAsync(path, string.Empty);
            }

            // The next run's ledger, reading what this one wrote.
            var reaped = Assert.Single(new WorkerLedger(ledger.Path).ReapLeftovers().Workers);

            Assert.Equal(new ReapedWorker(orphan.Id, "stubborn", null), reaped);
            await orphan.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Empty(Directory.EnumerateFiles(_root));
        }
        finally
        {
            if (!orphan.HasExited)
            {
                orphan.Kill();
            }
        }
    }

    [Fact]
    public async Task AHelperAListedWorkerLeft_IsKilledAtTheNextStart_EvenWithItsWorkerGone_AndTheTokenIsNotOnDisk()
    {
        // The worker read its closed stdin and exited; its helper, in a session of its own, did not.
        const string Token = "ledger-test-token-4b1e";
        var helperStart = new ProcessStartInfo("/usr/bin/setsid", ["sleep", "60"]);
        helperStart.Environment["PLUGIN_TOKEN"] = Token;
        using var helper = Process.Start(helperStart)!;
        using var gone = Process.Start("true")!;
        await gone.WaitForExitAsync();
        try
        {
            var ledger = new WorkerLedger(Path.Combine(_root, "workers.ledger"));
            ledger.Add(new RuntimeLeftovers(_root, gone.Id, 1), "daemon", Token);
            var written = await File.ReadAllTextAsync(ledger.Path);

            var reaping = new WorkerLedger(ledger.Path).ReapLeftovers();

            Assert.DoesNotContain(Token, written, StringComparison.Ordinal);
            Assert.Empty(reaping.Workers);
            Assert.Equal([helper.Id], reaping.Helpers);
            await helper.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            if (!helper.HasExited)
            {
                helper.Kill();
            }
        }
    }

    [Fact]
    public async Task AListedWorkersOwnGroup_StillDyingOfItsKill_IsNotTakenForItsHelpers()
    {
        // A worker with thirty busy children in its group, all holding its token, and one helper
        // that left the group. The group's kill is sent before the helpers are looked for, and a
        // member waiting for a core is still there, token and all, until it is scheduled to die.
        const string Token = "ledger-test-token-9c2d";
        var workerStart = new ProcessStartInfo("/usr/bin/setsid", ["bash", "-c", "for i in $(seq 30); do (while :; do :; done) & done; echo spawned; exec sleep 60"]) { RedirectStandardOutput = true };
        workerStart.Environment["PLUGIN_TOKEN"] = Token;
        var helperStart = new ProcessStartInfo("/usr/bin/setsid", ["sleep", "60"]);
        helperStart.Environment["PLUGIN_TOKEN"] = Token;
        using var worker = Process.Start(workerStart)!;
        using var helper = Process.Start(helperStart)!;
        try
        {
            Assert.Equal("spawned", await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
            var ledger = new WorkerLedger(Path.Combine(_root, "workers.ledger"));
            ledger.Add(new RuntimeLeftovers(_root, worker.Id, ProcessStartTime.Read(worker.Id)!.Value), "busy", Token);

            var reaping = new WorkerLedger(ledger.Path).ReapLeftovers();

            Assert.Equal(worker.Id, Assert.Single(reaping.Workers).Pid);
            Assert.Equal([helper.Id], reaping.Helpers);
            await helper.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            ProcessSignals.SignalGroup(worker.Id, ProcessSignals.SigKill);
            if (!helper.HasExited)
            {
                helper.Kill();
            }
        }
    }

    [Fact]
    public async Task ALedgerWrittenBeforeTempDirectoriesWereKept_IsStillReaped()
    {
        using var orphan = StartOrphan();
        try
        {
            var path = Path.Combine(_root, "workers.ledger");
            await File.WriteAllTextAsync(path, $"{orphan.Id} {ProcessStartTime.Read(orphan.Id)} stubborn\n");

            var reaped = Assert.Single(new WorkerLedger(path).ReapLeftovers().Workers);

            Assert.Equal((orphan.Id, "stubborn"), (reaped.Pid, reaped.PluginId));
            await orphan.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            if (!orphan.HasExited)
            {
                orphan.Kill();
            }
        }
    }
}
