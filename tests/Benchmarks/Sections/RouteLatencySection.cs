using static GrpcPlugins.Benchmarks.HttpCalls;
using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>
/// The route's latency taken apart (ONLY=routeparts): its gRPC leg alone and from inside a host
/// endpoint, each app's own endpoint, YARP over HTTP/2 as the host speaks to a worker, the CPU
/// a request takes at 1 in flight, and YARP with no second process.
/// </summary>
internal static class RouteLatencySection
{
    public static async Task RunAsync(Report report, BenchHost host)
    {
        using var http = new HttpClient { BaseAddress = host.Address };
        var workerPid = host.Supervisor("hello").Snapshot.Pid!.Value;
        await WarmRoutesAsync(http, "/plugins/hello/ping");

        // The route's gRPC leg alone, as the forwarder makes it, and a hook call over the
        // same connection: what the host-to-worker hop costs a route beside a hook.
        foreach (var (what, call) in new (string, Func<GrpcPlugins.Supervisor.Connection.WorkerConnection, Task>)[]
        {
            ("HandleHttpBuffered", RouteLeg.CallAsync),
            ("InvokeHook", async c => await c.Plugin.InvokeHookAsync(new GrpcPlugins.Protocol.V1.HookRequest { Point = "request", Body = Google.Protobuf.ByteString.CopyFromUtf8("0123456789abcdef") })),
        })
        {
            var leg = await GrpcLegAsync(host, call, workerPid);
            report.Row($"route's gRPC leg alone: {what} to the worker: 1, then 16 in flight", leg);
        }

        // The same leg made from inside a host endpoint, beside the leg alone and the bare endpoint,
        // taken in turn: what a gRPC call costs once it sits inside a request the host serves.
        var pieces = new List<(double Whole, double Inside, double Alone, double Bare)>();
        for (var round = 0; round < 6; round++)
        {
            RouteLeg.InsideRequest.Clear();
            var whole = Stats.Median(await Load.LatenciesAsync(() => RouteAsync(http, RouteLeg.EndpointPath), 1000));
            var inside = Stats.Median([.. RouteLeg.InsideRequest]);
            var alone = Stats.Median(await Load.LatenciesAsync(() => RouteLeg.CallAsync(host.Supervisor("hello").ReadyWorker!.Connection), 1000));
            var bare = Stats.Median(await Load.LatenciesAsync(() => RouteAsync(http, "/bench/pong"), 1000));
            pieces.Add((whole, inside, alone, bare));
        }

        report.Row(
            "route's gRPC leg from inside a host endpoint, 1 in flight, p50s (medians of 6 rounds in turn): whole request / the leg inside it / the leg alone / the bare endpoint; whole - (alone + bare)",
            $"{Stats.Median([.. pieces.Select(p => p.Whole)]):0} / {Stats.Median([.. pieces.Select(p => p.Inside)]):0} / {Stats.Median([.. pieces.Select(p => p.Alone)]):0} / {Stats.Median([.. pieces.Select(p => p.Bare)]):0} µs; {Stats.Median([.. pieces.Select(p => p.Whole - p.Alone - p.Bare)]):0} µs");

        await using var yarp = await YarpBaseline.StartAsync(backendInOwnProcess: true);
        using var yarpHttp = new HttpClient { BaseAddress = yarp.Address };
        await WarmRoutesAsync(yarpHttp, "/yarp/ping");

        // The route's two ratios for an endpoint each app answers itself: what the host's own
        // pipeline (routing, authentication) costs beside a bare app, with no worker or backend.
        var (ownRate, ownLatency) = await AlternatingRatiosAsync(http, "/bench/pong", yarpHttp, "/bench/pong");
        report.Row("an endpoint in the app itself, host's app / YARP's app, taken in turn ×8: throughput ratio; latency ratio", $"{ownRate}; {ownLatency}");

        // YARP again, speaking HTTP/2 to its backend (prior knowledge on the Unix socket), as the
        // host speaks to a worker: the framework's HTTP/2 client and server without gRPC or our
        // code. Against the route, and against YARP over HTTP/1.1, each in windows taken in turn.
        await using var yarp2 = await YarpBaseline.StartAsync(backendInOwnProcess: true, http2: true);
        using var yarp2Http = new HttpClient { BaseAddress = yarp2.Address };
        var overHttp2 = await MeasureRouteAsync(yarp2Http, "/yarp/ping", yarp2.BackendPid);
        overHttp2.AddTo(report, "YARP over HTTP/2 to its backend (own process), 1 in flight: p50 / p99", "YARP over HTTP/2");
        var (h2Rate, h2Latency) = await AlternatingRatiosAsync(yarp2Http, "/yarp/ping", yarpHttp, "/yarp/ping");
        report.Row("YARP over HTTP/2 / YARP over HTTP/1.1, taken in turn ×8: throughput ratio; latency ratio", $"{h2Rate}; {h2Latency}");
        var (routeRate, routeLatency) = await AlternatingRatiosAsync(http, "/plugins/hello/ping", yarp2Http, "/yarp/ping");
        report.Row("route / YARP over HTTP/2, taken in turn ×8: throughput ratio; latency ratio", $"{routeRate}; {routeLatency}");

        // At 1 in flight the machine is not idle: every process's thread pool spins between
        // hand-offs, and the CPU a request takes says how much of two cores that is.
        foreach (var (what, path, client, pid) in new[] { ("route", "/plugins/hello/ping", http, workerPid), ("YARP", "/yarp/ping", yarpHttp, yarp.BackendPid!.Value), ("YARP over HTTP/2", "/yarp/ping", yarp2Http, yarp2.BackendPid!.Value) })
        {
            var single = await Load.MeasureCpuAsync(() => RouteLoopAsync(client, path, 1, TimeSpan.FromSeconds(3)), pid);
            report.Row($"{what}, 1 in flight for 3 s: time per request; CPU per request: bench process + {(what == "route" ? "worker" : "backend")}; switches", $"{1e6 / single.Rate:0} µs; {single}; {single.SwitchesPerCall}");
        }

        // A request with a body, as every gRPC call has (the route's request message): 16 B
        // posted through YARP over HTTP/2 to a handler that reads it.
        var small = new byte[16];
        await Load.InFlightAsync(() => PostAsync(yarp2Http, "/yarp/upload", small), 16, TimeSpan.FromSeconds(3));
        var posted = await Load.MeasureCpuAsync(() => Load.InFlightAsync(() => PostAsync(yarp2Http, "/yarp/upload", small), 16, TimeSpan.FromSeconds(3)), yarp2.BackendPid);
        report.Row("YARP over HTTP/2, POST of 16 B, 16 in flight: rate; CPU per request; switches per request", $"{posted.Rate:0} req/s; {posted}; {posted.SwitchesPerCall}");

        // What the body costs against the same proxy's GET, over each protocol in windows taken in
        // turn: over HTTP/2 the backend starts the request on its HEADERS frame and may then wait
        // for its DATA frame, a hand-off a GET does not have.
        foreach (var (protocol, client) in new[] { ("HTTP/2", yarp2Http), ("HTTP/1.1", yarpHttp) })
        {
            var (bodyRate, bodyLatency) = await AlternatingRatiosAsync(() => PostAsync(client, "/yarp/ping", small), () => RouteAsync(client, "/yarp/ping"));
            report.Row($"YARP over {protocol}, /ping with a body of 16 B (POST) / without (GET), taken in turn ×8: throughput ratio; latency ratio", $"{bodyRate}; {bodyLatency}");
        }

        // YARP with its backend in the bench process: the proxy alone, no second process on the two cores.
        await using var inProcess = await YarpBaseline.StartAsync(backendInOwnProcess: false);
        using var inProcessHttp = new HttpClient { BaseAddress = inProcess.Address };
        var theirs = await MeasureRouteAsync(inProcessHttp, "/yarp/ping", inProcess.BackendPid);
        theirs.AddTo(report, "YARP to Kestrel on a Unix socket, backend in the bench process, 1 in flight: p50 / p99", "YARP, backend in the bench process");
    }

    private static async Task<string> GrpcLegAsync(BenchHost host, Func<GrpcPlugins.Supervisor.Connection.WorkerConnection, Task> call, int workerPid)
    {
        using var lease = host.Supervisor("hello").Lease();
        var connection = lease.Worker!.Connection;
        await Load.InFlightAsync(() => call(connection), 16, TimeSpan.FromSeconds(3));
        var latencies = await Load.LatenciesAsync(() => call(connection), 3000);
        var cpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(() => call(connection), 16, TimeSpan.FromSeconds(3)), workerPid);
        return $"p50 {Stats.Percentile(latencies, 50):0} µs at 1 in flight; {cpu.Rate:0} calls/s, CPU {cpu}, switches {cpu.SwitchesPerCall}, host allocates {cpu.OwnBytes:0} B";
    }
}
