namespace GrpcPlugins.Host.Hooks;

/// <summary>
/// A hook point the host application declares, typed so call sites never pass
/// magic strings: declare each once (for example as a static field) and hand it
/// to <see cref="IHookDispatcher"/>.
/// </summary>
/// <param name="Name">The name plugins register for, for example "request".</param>
/// <param name="FailureMode">What a failed, slow or unavailable plugin means for the call.</param>
/// <param name="Deadline">The deadline of one plugin's call at this point.</param>
public sealed record HookPoint(string Name, HookFailureMode FailureMode, TimeSpan Deadline);

/// <summary>What a plugin failure means for the call at a hook point.</summary>
public enum HookFailureMode
{
    /// <summary>The failing plugin is skipped (and counted); the call goes on.</summary>
    FailOpen,

    /// <summary>The whole call fails: 503 when unavailable, 504 on timeout, 502 when the plugin errored.</summary>
    FailClosed,
}
