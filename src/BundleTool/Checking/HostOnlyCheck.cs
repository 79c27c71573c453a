using System.Diagnostics;
using Grpc.Core;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Connection;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Protocol;
using GrpcPlugins.Supervisor.Workers;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// A worker should take calls from its host alone (<c>PLUGIN_HOST_PID</c>): every plugin runs as
/// the host's user, so another plugin can read this one's token from <c>/proc</c> and call it.
/// The check plays that plugin: this tool, started again as a process of its own, reads the
/// worker's token from its environment and calls its Describe. A warning, not a failure: the
/// rule came after the protocol's first release, and a worker whose gRPC library hides its
/// connections can only keep it by asking the kernel (docs/protocol.md, section 1).
/// </summary>
internal static class HostOnlyCheck
{
    /// <summary>The hidden command the probe runs as: <c>host-only-probe &lt;pid&gt; &lt;socket&gt;</c>.</summary>
    public const string ProbeCommand = "host-only-probe";

    private const int Answered = 0;
    private const int Refused = 3;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_probeLimit = TimeSpan.FromSeconds(30);

    /// <param name="said">Takes what the worker may log about the probe, so the report does not repeat it as a host log warning.</param>
    public static async Task<CheckResult> RunAsync(Worker worker, Action<string> said, CancellationToken cancellationToken)
    {
        if (worker.Handshake is not { Network: "unix" } handshake || worker.ProcessId is not { } pid)
        {
            return CheckResult.Skip("host only", "not checked: the worker does not serve on a Unix socket");
        }

        var line = OwnCommand.Line();
        var start = new ProcessStartInfo(line[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[.. line[1..], ProbeCommand, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), handshake.Address])
        {
            start.ArgumentList.Add(argument);
        }

        using var probe = Process.Start(start)!;
        // A worker that refuses the probe may say so, naming its pid ("refused a connection from pid N (…)", "… pid N: …").
        said($"a connection from pid {probe.Id} ");
        said($"a connection from pid {probe.Id}:");
        var printed = probe.StandardOutput.ReadToEndAsync(cancellationToken);
        var complained = probe.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_probeLimit);
        try
        {
            await probe.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            probe.Kill(entireProcessTree: true);
            await probe.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return CheckResult.Skip("host only", $"not checked: the probe did not finish within {s_probeLimit.TotalSeconds:0} s");
        }

        var what = (await printed.ConfigureAwait(false)).Trim();
        return probe.ExitCode switch
        {
            Refused => CheckResult.Pass("host only", $"another process holding the token, read from /proc, was refused: {what}"),
            Answered => CheckResult.Warn("host only", $"another process that read PLUGIN_TOKEN from /proc/{pid}/environ called Describe and was answered. Every plugin runs as the host's user, so any other plugin can do the same: take connections only from PLUGIN_HOST_PID ({Environment.ProcessId} here), asking the kernel who connected (docs/protocol.md, section 1)."),
            _ => CheckResult.Skip("host only", $"not checked: the probe could not call the worker (exit code {probe.ExitCode}): {what} {(await complained.ConfigureAwait(false)).Trim()}"),
        };
    }

    /// <summary>The probe: reads the worker's token as another plugin would, and calls its Describe with it.</summary>
    public static async Task<int> ProbeAsync(int pid, string socketPath)
    {
        if (ProcessEnvironment.Read(pid) is not { } environment || ProcessEnvironment.Value(environment, HandshakeEnvironment.Token) is not { } token)
        {
            Console.WriteLine($"no {HandshakeEnvironment.Token} in /proc/{pid}/environ");
            return 2;
        }

        using var connection = new WorkerConnection(socketPath, token);
        try
        {
            var answer = await connection.Plugin.DescribeAsync(new DescribeRequest(), deadline: DateTime.UtcNow.Add(s_deadline)).ConfigureAwait(false);
            Console.WriteLine($"answered as '{answer.Id}'");
            return Answered;
        }
        catch (RpcException ex)
        {
            // A worker that closed the connection leaves the client's long story of it; its own refusal is short.
            Console.WriteLine(ex.StatusCode == StatusCode.Unavailable ? "its connection was closed (UNAVAILABLE)" : $"{ex.StatusCode}: {ex.Status.Detail}");
            return Refused;
        }
    }
}
