using System.Collections.Concurrent;
using System.Diagnostics;
using GrpcPlugins.Protocol.V1;
using GrpcPlugins.Supervisor.Connection;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// A route's gRPC leg as the forwarder makes it (HandleHttpBuffered, GET /ping, read to the end),
/// made by the bench itself or from inside a host endpoint: what the hop to the worker costs alone,
/// and what it costs once it sits inside a request the host is serving.
/// </summary>
internal static class RouteLeg
{
    /// <summary>A host endpoint that makes the leg to the plugin "hello" and answers "ok".</summary>
    public const string EndpointPath = "/bench/leg";

    /// <summary>How long each leg made by <see cref="EndpointPath"/> took inside its request, in µs.</summary>
    public static readonly ConcurrentQueue<double> InsideRequest = new();

    public static async Task CallAsync(WorkerConnection connection)
    {
        var (answer, call) = connection.HandleHttpBuffered(new HttpBufferedRequest { Head = new HttpRequestHead { Method = "GET", Path = "/ping" } }, CancellationToken.None);
        using (call)
        {
            while (await answer.MoveNext(CancellationToken.None))
            {
            }
        }
    }

    public static async Task ServeAsync(Microsoft.AspNetCore.Http.HttpContext context, Func<WorkerConnection> connection)
    {
        var started = Stopwatch.GetTimestamp();
        await CallAsync(connection());
        InsideRequest.Enqueue(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        await context.Response.Body.WriteAsync("ok"u8.ToArray());
    }
}
