using GrpcPlugins.Sdk.Server;

namespace GrpcPlugins.Protocol.V1;

/// <summary>
/// Binds the Plugin service to the worker's method table with direct calls.
/// The generated BindService goes through ServiceBinderBase's generic virtual
/// AddMethod, which NativeAOT resolves by building types at run time: 4.4 ms
/// of a worker's start. The method descriptors are the generated ones, so the
/// protos stay the contract (a renamed field fails the build, not a call).
/// </summary>
internal static partial class Plugin
{
    /// <summary>"plugin.v1.Plugin", without building the proto's reflection descriptor.</summary>
    public static string ServiceName => __ServiceName;

    public static void BindTo(ServerMethodTable table, PluginBase service)
    {
        table.AddUnary(__Method_Describe, service.Describe);
        table.AddUnary(__Method_Configure, service.Configure);
        table.AddUnary(__Method_InvokeHook, service.InvokeHook);
        table.AddDuplexStreaming(__Method_HandleHttp, service.HandleHttp);
        table.AddServerStreaming(__Method_HandleHttpBuffered, service.HandleHttpBuffered);
        table.AddDuplexStreaming(__Method_HandleWebSocket, service.HandleWebSocket);
        table.AddUnary(__Method_Shutdown, service.Shutdown);
    }
}
