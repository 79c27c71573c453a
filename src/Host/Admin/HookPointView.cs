namespace GrpcPlugins.Host.Admin;

/// <summary>
/// One hook point as an admin sees it: how it fails, the plugins it calls in
/// order, the application endpoints that run through it, and what looks wrong.
/// </summary>
internal sealed record HookPointView(
    string Point,
    bool Declared,
    string? FailureMode,
    double? DeadlineMs,
    IReadOnlyList<HookPointPluginView> Plugins,
    IReadOnlyList<HookPointEndpointView> Endpoints,
    string? Warning);

/// <summary>
/// A plugin at a hook point, in call order; <paramref name="Called"/> is false while it is
/// stopped or disabled; <paramref name="Match"/> says which calls it handles (null: every call);
/// <paramref name="Tenants"/> which tenants' calls an admin lets reach it (null: every tenant's).
/// </summary>
internal sealed record HookPointPluginView(string Id, string State, bool Called, string? Match, string? Tenants);

/// <summary>An application endpoint that runs its requests (inbound) or responses (outbound) through the point.</summary>
internal sealed record HookPointEndpointView(string Route, string Direction);
