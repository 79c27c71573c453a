using System.Diagnostics;

namespace GrpcPlugins.Benchmarks;

/// <summary>An HTTP request to the host or to YARP, as the sections make it: one, a load, a warm-up, or a path's whole set of figures.</summary>
internal static class HttpCalls
{
    public static async Task RouteAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"route call failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    public static Task<double> RouteLoopAsync(HttpClient http, string path, int inFlight, TimeSpan duration) =>
        Load.InFlightAsync(() => RouteAsync(http, path), inFlight, duration);

    public static async Task PostAsync(HttpClient http, string path, byte[] body, bool chunked = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        // Chunked: no Content-Length, as a client that streams its body sends it.
        request.Headers.TransferEncodingChunked = chunked;
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        await response.Content.ReadAsByteArrayAsync();
    }

    // Tiered compilation keeps promoting methods for seconds under load, more of them on
    // the longer path: both sides are measured once their rate stops climbing.
    public static async Task<string> WarmRoutesAsync(HttpClient http, string path)
    {
        var start = Stopwatch.GetTimestamp();
        var previous = 0.0;
        while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(30))
        {
            var rate = await RouteLoopAsync(http, path, 4, TimeSpan.FromSeconds(1));
            if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(8) && Math.Abs(rate - previous) < previous * 0.05)
            {
                break;
            }

            previous = rate;
        }

        return $"{Stopwatch.GetElapsedTime(start).TotalSeconds:0} s";
    }

    public static async Task<RouteFigures> MeasureRouteAsync(HttpClient http, string path, int? backendPid)
    {
        var warmUp = await WarmRoutesAsync(http, path);
        var latencies = (await Load.LatenciesAsync(() => RouteAsync(http, path), 3000))[500..];
        var cpu = await Load.MeasureCpuAsync(() => RouteLoopAsync(http, path, 16, TimeSpan.FromSeconds(3)), backendPid);
        return new RouteFigures(
            $"{Stats.Percentile(latencies, 50):0} µs / {Stats.Percentile(latencies, 99):0} µs (after {warmUp} of warm-up)",
            cpu.Rate,
            $"{cpu.Rate:0} req/s",
            cpu.ToString(),
            cpu.SwitchesPerCall,
            $"{cpu.OwnBytes:0} B");
    }
}
