namespace GrpcPlugins.Sdk.Server;

/// <summary>Waiting for a token without an exception when it fires.</summary>
internal static class CancellationTokenExtensions
{
    /// <summary>Completes (never faults) once <paramref name="token"/> is cancelled.</summary>
    public static async Task WhenCancelledAsync(this CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = token.Register(() => cancelled.TrySetResult()).ConfigureAwait(false);
        await cancelled.Task.ConfigureAwait(false);
    }
}
