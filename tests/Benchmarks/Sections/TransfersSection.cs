using GrpcPlugins.Supervisor.Supervision;
using static GrpcPlugins.Benchmarks.HttpCalls;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>Large route bodies, downloads and uploads, against YARP.</summary>
internal static class TransfersSection
{
    // Large bodies: a plugin route answering a file export or taking an import, against YARP
    // proxying a backend in its own process that writes the same bytes in the same 64 KiB
    // writes, taken in turn. One transfer at a time, as a client downloading a file makes it.
    public static async Task RunAsync(Report report)
    {
        var manifest = BenchHost.Test("t", "normal");
        manifest["routes"] = BenchHost.AnonymousRoutes(("GET", "/bytes"), ("POST", "/upload"));
        await using var host = await BenchHost.StartAsync([manifest]);
        await host.WaitReadyAsync("t");
        await using var yarp = await YarpBaseline.StartAsync(backendInOwnProcess: true);
        using var ours = new HttpClient { BaseAddress = host.Address };
        using var theirs = new HttpClient { BaseAddress = yarp.Address };
        var upload = new byte[16 * 1024 * 1024];

        // The same upload with the plugin's pull turned off (PullRouteBodies = false): the body in
        // HandleHttp's frames, as before session 17 and as for plugins that do not pull, in this run.
        var streamedManifest = BenchHost.Test("s", "normal");
        streamedManifest["routes"] = BenchHost.AnonymousRoutes(("POST", "/upload"));
        await using var streamedHost = await BenchHost.StartAsync([streamedManifest], o => o.PullRouteBodies = false);
        await streamedHost.WaitReadyAsync("s");
        using var streamed = new HttpClient { BaseAddress = streamedHost.Address };

        foreach (var (what, bytes, path, send, http, prefix, worker) in new (string, long, string, Func<HttpClient, string, Task>, HttpClient, string, PluginSupervisor)[]
        {
            ("download 1 MiB", 1L << 20, "bytes?n=1048576", DownloadAsync, ours, "/plugins/t/", host.Supervisor("t")),
            ("download 64 MiB", 64L << 20, "bytes?n=67108864", DownloadAsync, ours, "/plugins/t/", host.Supervisor("t")),
            ("upload 16 MiB", upload.Length, "upload", (http, p) => PostAsync(http, p, upload), ours, "/plugins/t/", host.Supervisor("t")),
            ("upload 16 MiB streamed in the route call (no pull)", upload.Length, "upload", (http, p) => PostAsync(http, p, upload), streamed, "/plugins/s/", streamedHost.Supervisor("s")),
        })
        {
            // Warm both paths (JIT, window sizes) before the rounds.
            await Load.InFlightAsync(() => send(http, prefix + path), 1, TimeSpan.FromSeconds(2));
            await Load.InFlightAsync(() => send(theirs, "/yarp/" + path), 1, TimeSpan.FromSeconds(2));
            var rounds = await InTurnAsync(() => MiBPerSecondAsync(http, prefix), () => MiBPerSecondAsync(theirs, "/yarp/"), 6);
            report.Row($"route {what}, 1 at a time, host / YARP: MiB/s (medians of 6 rounds in turn); ratio", $"{Stats.Median([.. rounds.Select(r => r.A)]):0} / {Stats.Median([.. rounds.Select(r => r.B)]):0} MiB/s; {Spread([.. rounds.Select(r => r.A / r.B)])}");
            var ourCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(() => send(http, prefix + path), 1, TimeSpan.FromSeconds(2)), worker.Snapshot.Pid);
            var theirCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(() => send(theirs, "/yarp/" + path), 1, TimeSpan.FromSeconds(2)), yarp.BackendPid);
            report.Row($"  CPU per MiB: bench process (client + host / proxy) + worker / backend, host; YARP", $"{ourCpu.PerMiB(bytes)}; {theirCpu.PerMiB(bytes)}");

            async Task<double> MiBPerSecondAsync(HttpClient client, string at) =>
                await Load.InFlightAsync(() => send(client, at + path), 1, TimeSpan.FromSeconds(1.5)) * bytes / (1024.0 * 1024);
        }

        // A small body without a declared length (a client that streams its JSON) against the same
        // body with one: the host takes a body that has all arrived whole, as it does a declared one.
        var small = new byte[3000];
        var smallRounds = await AlternatingAsync(() => PostAsync(ours, "/plugins/t/upload", small, chunked: true), () => PostAsync(ours, "/plugins/t/upload", small));
        report.Row(
            "route POST of 3000 B without a length (chunked) / with a Content-Length: p50 at 1 in flight; rate at 16 (medians of 8 rounds in turn)",
            $"{Stats.Median([.. smallRounds.Select(r => r.A.P50)]):0} / {Stats.Median([.. smallRounds.Select(r => r.B.P50)]):0} µs; {Stats.Median([.. smallRounds.Select(r => r.A.Rate)]):0} / {Stats.Median([.. smallRounds.Select(r => r.B.Rate)]):0} req/s");

        static async Task DownloadAsync(HttpClient http, string path)
        {
            using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.CopyToAsync(Stream.Null);
        }
    }
}
