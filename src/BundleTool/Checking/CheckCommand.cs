using System.Runtime.InteropServices;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// <c>check</c> on the command line: a line per step for people, the same steps in a report
/// file for machines when asked, and an exit code: 0 passed, 1 failed, 2 a wrong command
/// line, 130 interrupted.
/// </summary>
internal static class CheckCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        if (CheckRequest.Parse(args, out var problem) is not { } request)
        {
            await Console.Error.WriteLineAsync($"error: {problem}\nusage: GrpcPlugins.BundleTool {CheckRequest.Usage}").ConfigureAwait(false);
            return 2;
        }

        Console.WriteLine($"checking {request.Folder} in a host of its own");
        var report = new CheckReport(request.Folder, TimeProvider.System);
        void Report(CheckResult result)
        {
            Console.WriteLine(result);
            report.Add(result);
        }

        // Ctrl+C or SIGTERM ends the check the way it ends by itself: its workers stopped, its temp directory removed.
        using var interrupted = new CancellationTokenSource();
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; interrupted.Cancel(); });
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; interrupted.Cancel(); });
        string outcome;
        try
        {
            var passed = request.IsBundle
                ? await BundleCheck.RunAsync(request, TimeProvider.System, Report, interrupted.Token).ConfigureAwait(false)
                : await new PluginCheck(request, TimeProvider.System).RunAsync(Report, interrupted.Token).ConfigureAwait(false);

            // A step the interruption cut short may have ended as a failure of its own (the host's start,
            // a call): the check was still interrupted, and says so.
            interrupted.Token.ThrowIfCancellationRequested();
            Console.WriteLine(passed ? "passed: a host will run it as checked" : "FAILED: see the lines marked FAIL");
            outcome = passed ? "passed" : "failed";
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("interrupted: the check's workers are stopped and its temp directory removed").ConfigureAwait(false);
            outcome = "interrupted";
        }

        if (request.ReportFile is not null)
        {
            await report.WriteAsync(request.ReportFile, outcome).ConfigureAwait(false);
        }

        return outcome switch
        {
            "passed" => 0,
            "failed" => 1,
            _ => 130,
        };
    }
}
