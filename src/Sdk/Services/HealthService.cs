using Grpc.Core;
using Grpc.Health.V1;
using GrpcPlugins.Sdk.Server;

namespace GrpcPlugins.Sdk.Services;

/// <summary>
/// grpc.health.v1 for the worker: SERVING for the whole server ("") and for
/// the Plugin service from the moment it listens, since a worker serves
/// nothing else; other service names are unknown.
/// </summary>
internal sealed class HealthService : Health.HealthBase
{
    private static readonly HealthCheckResponse s_serving = new() { Status = HealthCheckResponse.Types.ServingStatus.Serving };
    private static readonly HealthCheckResponse s_unknown = new() { Status = HealthCheckResponse.Types.ServingStatus.ServiceUnknown };

    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        Knows(request.Service)
            ? Task.FromResult(s_serving)
            : throw new RpcException(new Status(StatusCode.NotFound, $"this worker serves no service '{request.Service}'; ask for \"\" or \"plugin.v1.Plugin\""));

    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        await responseStream.WriteAsync(Knows(request.Service) ? s_serving : s_unknown, context.CancellationToken).ConfigureAwait(false);
        // The status never changes while the worker runs; the watch ends when the caller or the worker does.
        await context.CancellationToken.WhenCancelledAsync().ConfigureAwait(false);
    }

    private static bool Knows(string service) => service.Length == 0 || service == Protocol.V1.Plugin.ServiceName;
}
