using GrpcPlugins.Sdk.Server;

namespace Grpc.Health.V1;

/// <summary>Binds grpc.health.v1 to the worker's method table with direct calls (see PluginBinding).</summary>
internal static partial class Health
{
    public static void BindTo(ServerMethodTable table, HealthBase service)
    {
        table.AddUnary(__Method_Check, service.Check);
        table.AddServerStreaming(__Method_Watch, service.Watch);
    }
}
