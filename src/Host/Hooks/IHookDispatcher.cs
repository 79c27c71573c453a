namespace GrpcPlugins.Host.Hooks;

/// <summary>Runs a hook point through the enabled plugins that handle it, in order.</summary>
public interface IHookDispatcher
{
    /// <summary>
    /// Calls each plugin in order, threading the body forward; the first
    /// short-circuit wins. A plugin that fails, is slow or is unavailable is
    /// skipped at a fail-open point and fails the call at a fail-closed one.
    /// No plugin call waits past its deadline.
    /// </summary>
    ValueTask<HookOutcome> DispatchAsync(HookPoint point, HookInput input, CancellationToken cancellationToken = default);
}
