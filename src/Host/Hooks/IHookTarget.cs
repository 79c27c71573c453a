using GrpcPlugins.Host.Calls;
using GrpcPlugins.Protocol.V1;

namespace GrpcPlugins.Host.Hooks;

/// <summary>One plugin as a hook point sees it: the seam between the dispatcher's semantics and the worker transport.</summary>
internal interface IHookTarget
{
    string PluginId { get; }

    /// <summary>The plugin's own call deadline from its manifest, overriding the point's.</summary>
    TimeSpan? CallTimeout { get; }

    /// <summary>Which calls the plugin handles; the others never reach it.</summary>
    HookMatch Match { get; }

    /// <summary>Whether an admin lets calls for <paramref name="tenantId"/> ("" for none) reach the plugin (its tenant scope).</summary>
    bool TakesTenant(string tenantId);

    /// <summary>Calls the plugin; a failure comes back as a value, never as an exception.</summary>
    ValueTask<HookTargetResult> InvokeAsync(HookRequest request, CallDeadline deadline);
}

/// <summary>Either the plugin's answer or why there is none.</summary>
internal readonly record struct HookTargetResult(HookResponse? Response, CallFailure? Failure);

/// <summary>The plugins of a hook point, in call order.</summary>
internal interface IHookTargets
{
    IReadOnlyList<IHookTarget> For(string point);
}
