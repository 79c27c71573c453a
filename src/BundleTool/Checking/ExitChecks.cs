using Grpc.Core;
using GrpcPlugins.Host.Registry;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Supervision;
using GrpcPlugins.Supervisor.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// The two ways a host asks a worker to end, each tried alone: its Shutdown call (a host
/// stopping, a disable, an upgrade) and its stdin closing, the only sign a host killed with
/// SIGKILL gives; a worker that misses it is left running with no one to stop it. A worker
/// that exits after its Shutdown call is started again for the second.
/// </summary>
internal sealed class ExitChecks(CheckHost host, string id, TimeProvider time, Action<string> said)
{
    public async Task RunAsync(Action<CheckResult> report, CancellationToken cancellationToken)
    {
        var supervisor = host.Catalog.Find(id)!.Supervisor!;
        var grace = host.Options.ShutdownGrace;
        try
        {
            if (supervisor.ReadyWorker is not { } first)
            {
                report(CheckResult.Fail("shutdown", $"not checked: the worker was no longer Ready ({supervisor.Snapshot.State}: {supervisor.Snapshot.LastError})"));
                return;
            }

            report(await ShutdownAsync(first, grace, cancellationToken).ConfigureAwait(false));
            var second = first.Exited.IsCompleted ? await StartAgainAsync(supervisor, first.Pid, cancellationToken).ConfigureAwait(false) : first;
            if (second is null)
            {
                var now = supervisor.Snapshot;
                report(CheckResult.Fail("stdin", $"not checked: the plugin did not start again after its exit ({now.State}{(now.LastError is { } error ? $": {error}" : string.Empty)})"));
                return;
            }

            report(await StdinAsync(second, grace, cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            // Whatever is left (a worker that ignored both, or the supervisor's next start) ends here.
            await supervisor.StopAsync().ConfigureAwait(false);
        }
    }

    private async Task<CheckResult> ShutdownAsync(Worker worker, TimeSpan grace, CancellationToken cancellationToken)
    {
        Expect(worker);
        var began = time.GetTimestamp();
        var answer = string.Empty;
        try
        {
            await worker.Connection.Plugin.ShutdownAsync(
                new ShutdownRequest { GracePeriodMs = (long)grace.TotalMilliseconds, Reason = "BundleTool check: the host is stopping" },
                deadline: DateTime.UtcNow.Add(grace),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.Internal)
        {
            // A worker may exit before its answer leaves: that is what was asked.
        }
        catch (RpcException ex)
        {
            answer = $"; its Shutdown call answered {ex.StatusCode}: {ex.Status.Detail}";
        }

        var exit = await ExitWithinAsync(worker, grace, cancellationToken).ConfigureAwait(false);
        var took = time.GetElapsedTime(began);
        return exit switch
        {
            { IsClean: true } => CheckResult.Pass("shutdown", $"pid {worker.Pid} exited with code 0, {took.TotalMilliseconds:0} ms after its Shutdown call{answer}"),
            { } other => CheckResult.Fail("shutdown", $"pid {worker.Pid} ended with {other} after its Shutdown call{answer}; a worker asked to exit ends with code 0, or its host reports a crash it did not have"),
            null => CheckResult.Fail("shutdown", $"pid {worker.Pid} still ran {grace.TotalSeconds:0.#} s after its Shutdown call (its grace_period_ms){answer}; a host would kill it, losing what it had not written. Stop serving and exit when Shutdown is called (docs/protocol.md, section 5)."),
        };
    }

    private async Task<CheckResult> StdinAsync(Worker worker, TimeSpan grace, CancellationToken cancellationToken)
    {
        Expect(worker);
        var began = time.GetTimestamp();
        worker.Process.CloseStdin();
        var exit = await ExitWithinAsync(worker, grace, cancellationToken).ConfigureAwait(false);
        var took = time.GetElapsedTime(began);
        if (exit is null)
        {
            // The stop that follows kills it, and the host says so; this line already did.
            said("did not exit within its shutdown grace");
        }

        return exit is null
            ? CheckResult.Fail("stdin", $"pid {worker.Pid} still ran {grace.TotalSeconds:0.#} s after its stdin closed; a host killed with SIGKILL gives no other sign, so this worker would be left running. Read stdin and exit when it ends (docs/protocol.md, section 5).")
            : CheckResult.Pass("stdin", $"pid {worker.Pid} ended ({exit}) {took.TotalMilliseconds:0} ms after its stdin closed, as it must when its host dies");
    }

    /// <summary>The next worker of the plugin, Ready; null if none comes within its start timeout.</summary>
    private async Task<Worker?> StartAgainAsync(PluginSupervisor supervisor, int previous, CancellationToken cancellationToken)
    {
        var limit = host.Catalog.Find(id)!.Manifest!.Limits.StartTimeout ?? host.Options.StartTimeout;
        var began = time.GetTimestamp();
        var restarted = false;
        while (time.GetElapsedTime(began) < limit + TimeSpan.FromSeconds(5))
        {
            var snapshot = supervisor.Snapshot;
            if (snapshot.State == WorkerState.Ready && supervisor.ReadyWorker is { } worker && worker.Pid != previous)
            {
                return worker;
            }

            if (snapshot.State is WorkerState.Exited && !restarted)
            {
                // Its restart mode keeps a clean exit down (transient, temporary): an admin's restart brings it back.
                restarted = true;
                await host.Services.GetRequiredService<PluginLifecycle>().RestartAsync(id, cancellationToken).ConfigureAwait(false);
            }
            else if (snapshot.State is WorkerState.CrashLooping or WorkerState.Halted)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), time, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    private async Task<WorkerExit?> ExitWithinAsync(Worker worker, TimeSpan grace, CancellationToken cancellationToken)
    {
        try
        {
            return await worker.Exited.WaitAsync(grace, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    // The supervisor reports the exits this check asks for as it would any other; they are not the plugin's faults.
    private void Expect(Worker worker) => said($"Plugin {id} pid {worker.Pid}: Exited");
}
