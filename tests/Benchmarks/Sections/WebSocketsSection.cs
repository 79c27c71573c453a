using static GrpcPlugins.Benchmarks.InTurn;

namespace GrpcPlugins.Benchmarks.Sections;

/// <summary>WebSocket messages through the host against YARP, and what compression costs.</summary>
internal static class WebSocketsSection
{
    // Hello's /greet WebSocket through the host against the same handler behind YARP (its backend
    // in a process of its own, as a plugin is): a message's round trip once the socket is open,
    // one socket at a time and sixteen at once, in windows taken in turn.
    public static async Task RunAsync(Report report)
    {
        // Compression allowed: hello asks for it, and only the sockets that offer it (the last rows') get it.
        await using var host = await BenchHost.StartAsync([BenchHost.Hello("hello")], o => o.AllowWebSocketCompression = true);
        await host.WaitReadyAsync("hello");
        await using var yarp = await YarpBaseline.StartAsync(backendInOwnProcess: true);
        var ourUri = new UriBuilder(host.Address) { Scheme = "ws", Path = "/plugins/hello/greet" }.Uri;
        var yarpUri = new UriBuilder(yarp.Address) { Scheme = "ws", Path = "/yarp/greet" }.Uri;
        await using var ours = await WebSocketRoundTrips.ConnectAsync(ourUri, 16);
        await using var theirs = await WebSocketRoundTrips.ConnectAsync(yarpUri, 16);
        foreach (var trips in new[] { ours, theirs })
        {
            await Load.InFlightAsync(trips.RoundTripAsync, 16, TimeSpan.FromSeconds(5));
        }

        var ourLatencies = await Load.LatenciesAsync(ours.RoundTripAsync, 3000);
        var yarpLatencies = await Load.LatenciesAsync(theirs.RoundTripAsync, 3000);
        report.Row("WebSocket message round trip through the host (hello /greet), 1 socket: p50 / p99", $"{Stats.Percentile(ourLatencies, 50):0} µs / {Stats.Percentile(ourLatencies, 99):0} µs");
        report.Row("WebSocket message round trip through YARP (backend in its own process): p50 / p99", $"{Stats.Percentile(yarpLatencies, 50):0} µs / {Stats.Percentile(yarpLatencies, 99):0} µs");
        var rounds = await AlternatingAsync(ours.RoundTripAsync, theirs.RoundTripAsync);
        report.Row("WebSocket messages/s, 16 sockets one message each in flight: ours / YARP's (medians)", $"{Stats.Median([.. rounds.Select(r => r.A.Rate)]):0} / {Stats.Median([.. rounds.Select(r => r.B.Rate)]):0}");
        report.Row("WebSocket rate ratio, host / YARP, 2 s windows taken in turn ×8: median (min–max)", Spread([.. rounds.Select(r => r.A.Rate / r.B.Rate)]));
        report.Row("WebSocket latency ratio, host / YARP, p50 of 400 at 1 in flight, in turn ×8", Spread([.. rounds.Select(r => r.A.P50 / r.B.P50)]));
        var cpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(ours.RoundTripAsync, 16, TimeSpan.FromSeconds(3)), host.Supervisor("hello").Snapshot.Pid);
        var yarpCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(theirs.RoundTripAsync, 16, TimeSpan.FromSeconds(3)), yarp.BackendPid);
        report.Row("WebSocket CPU per message round trip: bench process + worker; YARP: bench process + backend", $"{cpu}; {yarpCpu}");

        // What compression costs, on the same host and route: 1 KiB of JSON a message, on sockets that
        // offered permessage-deflate and on sockets that did not, taken in turn.
        await using var deflated = await WebSocketRoundTrips.ConnectAsync(ourUri, 16, WebSocketRoundTrips.JsonMessage, deflate: true);
        await using var plain = await WebSocketRoundTrips.ConnectAsync(ourUri, 16, WebSocketRoundTrips.JsonMessage);
        foreach (var trips in new[] { deflated, plain })
        {
            await Load.InFlightAsync(trips.RoundTripAsync, 16, TimeSpan.FromSeconds(3));
        }

        var compressed = await AlternatingAsync(deflated.RoundTripAsync, plain.RoundTripAsync);
        report.Row("WebSocket 1 KiB JSON messages/s, 16 sockets: compressed / plain (medians)", $"{Stats.Median([.. compressed.Select(r => r.A.Rate)]):0} / {Stats.Median([.. compressed.Select(r => r.B.Rate)]):0}");
        report.Row("WebSocket compressed / plain rate ratio, windows in turn ×8: median (min–max)", Spread([.. compressed.Select(r => r.A.Rate / r.B.Rate)]));
        report.Row("WebSocket compressed / plain latency ratio, p50 of 400 at 1 in flight, in turn ×8", Spread([.. compressed.Select(r => r.A.P50 / r.B.P50)]));
        var deflatedCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(deflated.RoundTripAsync, 16, TimeSpan.FromSeconds(3)), host.Supervisor("hello").Snapshot.Pid);
        var plainCpu = await Load.MeasureCpuAsync(() => Load.InFlightAsync(plain.RoundTripAsync, 16, TimeSpan.FromSeconds(3)), host.Supervisor("hello").Snapshot.Pid);
        // The bench process is the client as well as the host: its figure holds both ends' compression.
        report.Row("WebSocket CPU per 1 KiB JSON round trip, bench process (client + host) + worker: compressed; plain", $"{deflatedCpu}; {plainCpu}");
    }
}
