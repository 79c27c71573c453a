namespace GrpcPlugins.Sdk;

/// <summary>Everything a plugin registered, frozen once it is built.</summary>
internal sealed record PluginDefinition(
    string Id,
    string Version,
    IReadOnlyList<HookRegistration> Hooks,
    RouteTable Routes,
    string SettingsSchemaJson,
    IReadOnlyList<string> Permissions,
    Func<PluginSettings, CancellationToken, ValueTask<IReadOnlyList<SettingError>>>? OnConfigure);

/// <summary>One handled hook point, and which of its calls (null: every call).</summary>
internal sealed record HookRegistration(string Point, int Priority, HookMatch? Match, Func<HookCall, CancellationToken, ValueTask<HookResult>> Handler);

/// <summary>One served route; <see cref="Path"/> is parsed once, here, so a bad template fails at registration.</summary>
internal sealed record RouteRegistration(string Method, string Path, bool AllowAnonymous, Func<RouteContext, Task> Handler)
{
    /// <summary>Set on a GET route that takes WebSockets; its <see cref="Handler"/> then answers plain requests 426.</summary>
    public Func<WebSocketRouteContext, Task>? WebSocketHandler { get; init; }

    public Routing.RouteTemplate Template { get; } = Routing.RouteTemplate.Parse(Path);
}
