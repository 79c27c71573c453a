using System.Diagnostics;

namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>Runs the dotnet CLI (build, publish, msbuild) for a test, and leaves nothing running or in /tmp.</summary>
internal static class DotnetCli
{
    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in <paramref name="directory"/>; stdout and stderr together.</summary>
    /// <param name="args">The CLI's arguments.</param>
    /// <param name="directory">Where it runs.</param>
    /// <param name="timeout">How long it may take before its process tree is killed (4 minutes if not given).</param>
    /// <param name="tempDirectory">Its TMPDIR, when a test must find (and remove) what a killed run left there;
    /// otherwise one of its own, removed after the run: every dotnet build, publish or test leaves two empty
    /// directories in its temp directory (dotnet/sdk#35353).</param>
    public static async Task<(int Code, string Output)> RunAsync(string[] args, string directory, TimeSpan? timeout = null, string? tempDirectory = null)
    {
        var ownTemp = tempDirectory is null ? Directory.CreateTempSubdirectory("gpt-dotnet-").FullName : null;
        try
        {
            return await RunInAsync(args, directory, timeout ?? TimeSpan.FromMinutes(4), tempDirectory ?? ownTemp!);
        }
        finally
        {
            if (ownTemp is not null)
            {
                Directory.Delete(ownTemp, recursive: true);
            }
        }
    }

    private static async Task<(int Code, string Output)> RunInAsync(string[] args, string directory, TimeSpan allowed, string tempDirectory)
    {
        // No build servers or reused nodes: they would outlive the test run.
        var start = new ProcessStartInfo("dotnet", args) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["TMPDIR"] = tempDirectory;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(allowed);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in {allowed}:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
