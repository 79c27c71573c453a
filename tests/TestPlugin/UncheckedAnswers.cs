using System.Runtime.CompilerServices;
using GrpcPlugins.Sdk;

namespace TestPlugin;

/// <summary>
/// Answers the Sdk refuses to build, made anyway: the host must still catch them, since a
/// plugin in another language has no Sdk to stop it. Field accessors, not reflection, so the
/// NativeAOT and trimmed builds of this plugin keep them.
/// </summary>
internal static class UncheckedAnswers
{
    public static void AddHeader(RouteResponse response, string name, string value) => Headers(response).Add(new(name, value));

    public static void SetStatus(RouteResponse response, int status) => Status(response) = status;

    public static HookResult ShortCircuit(int status, string body) =>
        (HookResult)NewShortCircuit(status, System.Text.Encoding.UTF8.GetBytes(body), "text/plain; charset=utf-8");

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_headers")]
    private static extern ref List<KeyValuePair<string, string>> Headers(RouteResponse response);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_statusCode")]
    private static extern ref int Status(RouteResponse response);

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    [return: UnsafeAccessorType("GrpcPlugins.Sdk.HookResult+ShortCircuitResult, GrpcPlugins.Sdk")]
    private static extern object NewShortCircuit(int statusCode, ReadOnlyMemory<byte> body, string contentType);
}
