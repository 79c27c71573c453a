using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// The host's own start, as `make run` starts the reference host (its build output, JIT): from spawn to the
/// first answer of the admin API, and the CPU the process spent until then. No plugins, so the figure is
/// the host's part of every start (a restart of the host, a new replica).
/// </summary>
internal static class HostStart
{
    private const string AdminKey = "bench-admin-key-0123456789";
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(60);

    public sealed record Figures(List<double> Milliseconds, List<double> CpuMilliseconds);

    public static async Task<Figures> MeasureAsync(int runs, CancellationToken cancellationToken)
    {
        var wall = new List<double>();
        var cpu = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var (elapsed, spent) = await OnceAsync(cancellationToken);
            wall.Add(elapsed.TotalMilliseconds);
            cpu.Add(spent.TotalMilliseconds);
        }

        return new Figures(wall, cpu);
    }

    private static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> OnceAsync(CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("gpb-host-");
        var port = LoopbackPort.Free();
        var referenceHost = BenchHost.Output("examples/ReferenceHost", "GrpcPlugins.ReferenceHost.dll");
        var start = new ProcessStartInfo("dotnet",
        [
            referenceHost,
            "--contentRoot", Path.GetDirectoryName(referenceHost)!,
            "--urls", $"http://127.0.0.1:{port}",
            $"--PluginHost:PluginsDirectory={Directory.CreateDirectory(Path.Combine(directory.FullName, "plugins")).FullName}",
            $"--PluginHost:StateDirectory={Path.Combine(directory.FullName, "state")}",
            "--PluginHost:AllowUnsignedPlugins=true",
            $"--PluginHost:WorkerPath={BenchHost.Output("src/PluginWorker", "GrpcPlugins.PluginWorker.dll")}",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["PluginHost__AdminApiKey"] = AdminKey },
        };

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        // A host that answers but never with a 200 (a key refused, a route gone) must end the run, not hold it.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_startDeadline);
        var watch = Stopwatch.StartNew();
        Process host;
        try
        {
            host = Process.Start(start)!;
        }
        catch
        {
            directory.Delete(recursive: true);
            throw;
        }

        using var started = host;
        // Drained so that a chatty start never blocks on a full pipe.
        _ = host.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var errors = host.StandardError.ReadToEndAsync(CancellationToken.None);
        HttpStatusCode? last = null;
        try
        {
            while (true)
            {
                if (host.HasExited)
                {
                    throw new InvalidOperationException($"the reference host exited with {host.ExitCode} before answering: {await errors}");
                }

                try
                {
                    using var response = await client.GetAsync("/admin/api/plugins", deadline.Token);
                    last = response.StatusCode;
                    if (last == HttpStatusCode.OK)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(5, deadline.Token);
            }

            var elapsed = watch.Elapsed;
            host.Refresh();
            return (elapsed, host.TotalProcessorTime);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the reference host gave GET /admin/api/plugins no 200 within {s_startDeadline.TotalSeconds:0} s (last answer: {last?.ToString() ?? "none, not listening"}); see that `make build` built examples/ReferenceHost");
        }
        finally
        {
            await StopAsync(host);
            directory.Delete(recursive: true);
        }
    }

    /// <summary>SIGTERM first: a host killed outright leaves its socket directory in /tmp (it is not its own supervisor).</summary>
    private static async Task StopAsync(Process host)
    {
        if (!host.HasExited && ProcessSignals.SignalProcess(host.Id, ProcessSignals.SigTerm))
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await host.WaitForExitAsync(grace.Token);
                return;
            }
            catch (OperationCanceledException)
            {
                // Still running after its grace: killed below.
            }
        }

        host.Kill(entireProcessTree: true);
        await host.WaitForExitAsync(CancellationToken.None);
    }
}
