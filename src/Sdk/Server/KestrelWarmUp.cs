using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// Compiles, on a pool thread while the worker starts, the one method of Kestrel's first HTTP/2
/// request that no ReadyToRun image can hold. Kestrel marks its request-header parser
/// (HttpRequestHeaders.Append) AggressiveOptimization, so under the JIT it is always compiled at
/// run time with full optimisation, ~11 ms here; left alone, that happens on the host's first
/// call, after the handshake line, on the start's critical path. NativeAOT has it compiled.
/// </summary>
internal static partial class KestrelWarmUp
{
    public static void Start(ILogger logger)
    {
        if (RuntimeFeature.IsDynamicCodeCompiled)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static logger => Compile(logger), logger, preferLocal: false);
        }
    }

    /// <summary>Compiles the parser now; false when this Kestrel has no such method.</summary>
    internal static bool Compile(ILogger logger)
    {
        // A Kestrel without this internal method (renamed in a later version) starts as it would have anyway.
        var headers = Type.GetType("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpRequestHeaders, Microsoft.AspNetCore.Server.Kestrel.Core", throwOnError: false);
        var append = headers?.GetMethod("Append", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, [typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<byte>), typeof(bool)]);
        if (append is null)
        {
            Log.NotFound(logger);
            return false;
        }

        try
        {
            RuntimeHelpers.PrepareMethod(append.MethodHandle);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or InvalidOperationException or TypeLoadException or BadImageFormatException)
        {
            // On a pool thread an escaped exception would end the worker; the first call compiles it instead.
            Log.Failed(logger, ex);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5010, EventName = "WarmUpMethodNotFound", Level = LogLevel.Debug, Message = "Kestrel's request-header parser was not found to compile ahead of the first call; the first call compiles it")]
        public static partial void NotFound(ILogger logger);

        [LoggerMessage(EventId = 5011, EventName = "WarmUpFailed", Level = LogLevel.Debug, Message = "Kestrel's request-header parser could not be compiled ahead of the first call; the first call compiles it")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
