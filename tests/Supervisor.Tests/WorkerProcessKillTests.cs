using GrpcPlugins.Supervisor.Limits;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class WorkerProcessKillTests
{
    [Fact]
    public async Task AWorkerKilledAtALimit_KeepsTheFirstCause_WhoeverSeesItsExit()
    {
        var process = Spawn();
        try
        {
            var memory = new LimitBreach(LimitKind.Memory, "memory limit exceeded: 600 MiB > 512 MiB");
            process.Kill(memory);
            // The watchdog's reading, made as the start's watch killed it, is not the cause.
            process.Kill(new LimitBreach(LimitKind.Threads, "thread limit exceeded"));
            var exit = await process.Exited.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Same(memory, process.KilledFor);
            Assert.Equal(128 + ProcessSignals.SigKill, exit.ExitCode);
        }
        finally
        {
            await process.DisposeAsync();
        }
    }

    [Fact]
    public async Task AWorkerKilledForNoLimit_OrAfterItExited_HasNoLimitCause()
    {
        var stopped = Spawn();
        var exited = Spawn("0");
        try
        {
            stopped.Kill();
            await stopped.Exited.WaitAsync(TimeSpan.FromSeconds(10));
            await exited.Exited.WaitAsync(TimeSpan.FromSeconds(10));
            exited.Kill(new LimitBreach(LimitKind.Threads, "read after its exit"));

            Assert.Null(stopped.KilledFor);
            Assert.Null(exited.KilledFor);
        }
        finally
        {
            await stopped.DisposeAsync();
            await exited.DisposeAsync();
        }
    }

    private static WorkerProcess Spawn(string seconds = "1000") => WorkerProcess.Start(
        new WorkerSpec("p", "sleep", [seconds], Path.GetTempPath(), new Dictionary<string, string>(), new WorkerLimits(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 0)),
        new Dictionary<string, string?>(),
        TimeProvider.System,
        (_, _) => { },
        (_, _) => { });
}
