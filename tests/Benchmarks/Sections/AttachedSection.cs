using System.Diagnostics;
using System.Text.Json.Nodes;
using GrpcPlugins.Host.Hooks;
using static GrpcPlugins.Benchmarks.HookCalls;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>A hook call to an attached plugin (mutual TLS, loopback TCP) against a spawned one.</summary>
internal static class AttachedSection
{
    // The same plugin twice, spawned (Unix socket) and attached (mutual TLS over loopback TCP),
    // each with a hook point of its own, taken in turn: what the attached transport costs a call.
    public static async Task RunAsync(Report report)
    {
        var directory = Directory.CreateTempSubdirectory("gpb-pki-").FullName;
        System.Diagnostics.Process? far = null;
        try
        {
            var hosts = GrpcPlugins.Functional.Tests.Infrastructure.TestPki.Create(directory, "hosts");
            var plugins = GrpcPlugins.Functional.Tests.Infrastructure.TestPki.Create(directory, "plugins");
            var hostIdentity = hosts.IssueIdentity("host");
            var pluginIdentity = plugins.IssueIdentity("plugin");
            var port = GrpcPlugins.Functional.Tests.Infrastructure.LoopbackPort.Free();
            var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
            foreach (var arg in new[] { BenchHost.Output("tests/TestPlugin", "TestPlugin.dll"), "normal", "--also-hook", "far" })
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["PLUGIN_ATTACH_LISTEN"] = $"127.0.0.1:{port}";
            start.Environment["PLUGIN_TLS_CERT"] = pluginIdentity.Certificate;
            start.Environment["PLUGIN_TLS_KEY"] = pluginIdentity.Key;
            start.Environment["PLUGIN_TLS_CLIENT_CA"] = hosts.CaPath;
            start.Environment["PLUGIN_ID"] = "far";
            far = Process.Start(start)!;
            far.BeginErrorReadLine();
            far.BeginOutputReadLine();

            var near = BenchHost.Test("near", "normal");
            ((JsonArray)near["args"]!).Add("--also-hook");
            ((JsonArray)near["args"]!).Add("near");
            near["hooks"] = new JsonArray("request", "near");
            var attached = new JsonObject
            {
                ["id"] = "far",
                ["version"] = "1.0.0",
                ["attach"] = new JsonObject { ["address"] = $"https://localhost:{port}" },
                ["hooks"] = new JsonArray("request", "far"),
            };
            await using var host = await BenchHost.StartAsync([near, attached], o =>
            {
                o.Attach.CertificatePath = hostIdentity.Certificate;
                o.Attach.KeyPath = hostIdentity.Key;
                o.Attach.TrustedCaPath = plugins.CaPath;
                o.StartTimeout = TimeSpan.FromSeconds(30);
            });
            await host.WaitReadyAsync("near");
            await host.WaitReadyAsync("far");
            var nearPoint = BenchHost.Request with { Name = "near" };
            var farPoint = BenchHost.Request with { Name = "far" };
            Task Call(HookPoint point) => host.Hooks.DispatchAsync(point, Input(16)).AsTask().ContinueWith(t =>
            {
                if (t.Result.Skipped.Count > 0)
                {
                    throw new InvalidOperationException($"a hook call failed: {t.Result.Skipped[0]}");
                }
            }, TaskScheduler.Default);

            await Load.InFlightAsync(() => Call(farPoint), 4, TimeSpan.FromSeconds(3));
            await Load.InFlightAsync(() => Call(nearPoint), 4, TimeSpan.FromSeconds(3));
            var rounds = await AlternatingAsync(() => Call(farPoint), () => Call(nearPoint));
            report.Row("hook round trip, 16 B, attached (mutual TLS, loopback TCP) / spawned (Unix socket): p50 at 1 in flight (medians of 8 rounds in turn)", $"{Stats.Median([.. rounds.Select(r => r.A.P50)]):0} µs / {Stats.Median([.. rounds.Select(r => r.B.P50)]):0} µs; ratio {Spread([.. rounds.Select(r => r.A.P50 / r.B.P50)])}");
            report.Row("hook throughput, 16 B, 16 in flight, attached / spawned (medians of 8 rounds in turn)", $"{Stats.Median([.. rounds.Select(r => r.A.Rate)]):0} / {Stats.Median([.. rounds.Select(r => r.B.Rate)]):0} calls/s; ratio {Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)])}");
        }
        finally
        {
            if (far is not null)
            {
                far.Kill(entireProcessTree: true);
                await far.WaitForExitAsync();
                far.Dispose();
            }

            Directory.Delete(directory, recursive: true);
        }
    }
}
