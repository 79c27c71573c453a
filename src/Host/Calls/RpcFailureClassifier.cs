using Grpc.Core;
using GrpcPlugins.Protocol;
using GrpcPlugins.Supervisor.Workers;

namespace GrpcPlugins.Host.Calls;

/// <summary>Maps what went wrong in a call to a worker to a <see cref="CallFailure"/>.</summary>
internal static class RpcFailureClassifier
{
    public static CallFailure Classify(string pluginId, Exception exception, CallDeadline deadline, Worker worker)
    {
        if (deadline.TimedOut)
        {
            return new CallFailure(pluginId, CallFailureKind.TimedOut, $"no answer within {deadline.Deadline.TotalMilliseconds:0} ms");
        }

        if (worker.Exited.IsCompleted)
        {
            return new CallFailure(pluginId, CallFailureKind.Crashed, $"worker pid {worker.Pid} exited during the call ({worker.Exited.Result})");
        }

        return exception switch
        {
            RpcException { StatusCode: StatusCode.Unavailable or StatusCode.Internal } rpc when rpc.Status.DebugException is not null || rpc.StatusCode == StatusCode.Unavailable
                => new CallFailure(pluginId, CallFailureKind.Crashed, $"connection to worker pid {worker.Pid} failed: {rpc.Status.Detail}"),
            RpcException { StatusCode: StatusCode.DeadlineExceeded }
                => new CallFailure(pluginId, CallFailureKind.TimedOut, $"no answer within {deadline.Deadline.TotalMilliseconds:0} ms"),
            // Most often a plugin that sent a whole large body as one message.
            RpcException { StatusCode: StatusCode.ResourceExhausted } rpc
                => new CallFailure(pluginId, CallFailureKind.Errored, $"ResourceExhausted: {rpc.Status.Detail} (a message between host and plugin may carry at most {UnixSocketChannel.MaxMessageBytes / (1024 * 1024)} MiB: send a large body as chunks)"),
            RpcException rpc => new CallFailure(pluginId, CallFailureKind.Errored, $"{rpc.StatusCode}: {rpc.Status.Detail}"),
            _ => new CallFailure(pluginId, CallFailureKind.Errored, $"{exception.GetType().Name}: {exception.Message}"),
        };
    }
}
