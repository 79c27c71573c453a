using GrpcPlugins.Host.Hooks;

namespace GrpcPlugins.ReferenceHost;

/// <summary>The reference host's extension points, declared once and typed.</summary>
internal static class ReferenceHooks
{
    /// <summary>Every request on its way in; a failing plugin is skipped.</summary>
    public static readonly HookPoint Request = new("request", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2));

    /// <summary>Before an upstream AI call; a failing plugin fails the call.</summary>
    public static readonly HookPoint AiCall = new("ai-call", HookFailureMode.FailClosed, TimeSpan.FromSeconds(5));

    /// <summary>Every response on its way out; a failing plugin is skipped.</summary>
    public static readonly HookPoint Response = new("response", HookFailureMode.FailOpen, TimeSpan.FromSeconds(2));

    public static readonly IReadOnlyList<HookPoint> All = [Request, AiCall, Response];
}
