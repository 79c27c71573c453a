using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Sdk;

/// <summary>Registers what a plugin implements: hooks, routes, settings and permissions.</summary>
public sealed class PluginBuilder
{
    private readonly List<HookRegistration> _hooks = [];
    private readonly List<RouteRegistration> _routes = [];
    private readonly List<string> _permissions = [];
    private string _settingsSchema = string.Empty;
    private Func<PluginSettings, CancellationToken, ValueTask<IReadOnlyList<SettingError>>>? _onConfigure;

    internal PluginBuilder(ILogger logger)
    {
        Logger = logger;
    }

    /// <summary>
    /// The plugin's logger: each entry is one line on the worker's stderr, which the
    /// host logs again under "Plugin.{id}" at the same level (and keeps the last lines
    /// of for the admin API). Capture it in handlers; it is safe to use from any thread.
    /// </summary>
    public ILogger Logger { get; }

    /// <summary>
    /// A directory that is this plugin's own to write (a driver's cache, a downloaded file, a
    /// local index), readable by nobody else, kept across restarts and upgrades and removed
    /// only when an admin uninstalls the plugin with its settings. Null under a host older than
    /// it. The plugin's own folder is not the place: an upgrade replaces it.
    /// </summary>
    public string? DataDirectory { get; internal init; }

    /// <summary>
    /// The bytes <see cref="DataDirectory"/> may hold: past it, the host stops the plugin and
    /// leaves it stopped until an admin makes room. Keep caches well under it (evict at three
    /// quarters, say). Null when the host sets no limit, or under a host older than it.
    /// </summary>
    public long? DataLimitBytes { get; internal init; }

    /// <summary>
    /// The cores' worth of CPU time the worker may use (0.5: half a core): on a host that holds it,
    /// threads busy past it are throttled, not run faster, so size worker pools to it (the runtime's
    /// own thread pool already reads the kernel's quota when there is one). Null when the host sets
    /// no limit, or under a host older than it.
    /// </summary>
    public double? CpuLimit { get; internal init; }

    /// <summary>Handles the hook point <paramref name="point"/> (for example "request").</summary>
    /// <param name="point">The hook point's name, as the host declares it.</param>
    /// <param name="handler">Decides Continue, Modify or ShortCircuit. The token fires at the host's deadline.</param>
    /// <param name="priority">Lower runs earlier when the host's configuration gives no order.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The overloads with a HookMatch have as many parameters but a different second one's type, so no call is ambiguous; priority is optional since the first release.")]
    public PluginBuilder OnHook(string point, Func<HookCall, CancellationToken, ValueTask<HookResult>> handler, int priority = 0) =>
        AddHook(point, null, handler, priority);

    /// <summary>Handles the hook point <paramref name="point"/> synchronously.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The overloads with a HookMatch have as many parameters but a different second one's type, so no call is ambiguous; priority is optional since the first release.")]
    public PluginBuilder OnHook(string point, Func<HookCall, HookResult> handler, int priority = 0)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return AddHook(point, null, (call, _) => ValueTask.FromResult(handler(call)), priority);
    }

    /// <summary>
    /// Handles the calls at <paramref name="point"/> that <paramref name="match"/> lets through; the
    /// host makes no call for the others. The host orders hooks by the manifest's priority, so
    /// there is none to give here.
    /// </summary>
    /// <param name="point">The hook point's name, as the host declares it.</param>
    /// <param name="match">Which calls: route ids, media types, or headers only. The manifest's hook must say the same. A pattern the host would refuse throws <see cref="ArgumentException"/>.</param>
    /// <param name="handler">Decides Continue, Modify or ShortCircuit. The token fires at the host's deadline.</param>
    public PluginBuilder OnHook(string point, HookMatch match, Func<HookCall, CancellationToken, ValueTask<HookResult>> handler)
    {
        ArgumentNullException.ThrowIfNull(match);
        return AddHook(point, match, handler, 0);
    }

    /// <summary>Handles the calls at <paramref name="point"/> that <paramref name="match"/> lets through, synchronously.</summary>
    /// <param name="point">The hook point's name, as the host declares it.</param>
    /// <param name="match">Which calls: route ids, media types, or headers only. The manifest's hook must say the same. A pattern the host would refuse throws <see cref="ArgumentException"/>.</param>
    /// <param name="handler">Decides Continue, Modify or ShortCircuit.</param>
    public PluginBuilder OnHook(string point, HookMatch match, Func<HookCall, HookResult> handler)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(handler);
        return AddHook(point, match, (call, _) => ValueTask.FromResult(handler(call)), 0);
    }

    private PluginBuilder AddHook(string point, HookMatch? match, Func<HookCall, CancellationToken, ValueTask<HookResult>> handler, int priority)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(point);
        ArgumentNullException.ThrowIfNull(handler);
        if (_hooks.Exists(h => h.Point == point))
        {
            throw new InvalidOperationException($"Hook point '{point}' is already handled; register one handler per point.");
        }

        if (match is not null)
        {
            // The host would refuse the manifest's copy of a bad pattern; say so where it is written.
            ArgumentNullException.ThrowIfNull(match.RouteIds, nameof(match));
            ArgumentNullException.ThrowIfNull(match.ContentTypes, nameof(match));
            ArgumentNullException.ThrowIfNull(match.Methods, nameof(match));
            var (pattern, why) = match.RouteIds.Select(p => (p, Routing.HookMatchRules.RouteIdProblem(p)))
                .Concat(match.Methods.Select(p => (p, Routing.HookMatchRules.MethodProblem(p))))
                .Concat(match.ContentTypes.Select(p => (p, Routing.HookMatchRules.ContentTypeProblem(p))))
                .FirstOrDefault(found => found.Item2 is not null);
            if (why is not null)
            {
                throw new ArgumentException($"Hook '{point}' match: '{pattern}' {why}.", nameof(match));
            }
        }

        _hooks.Add(new HookRegistration(point, priority, match, handler));
        return this;
    }

    /// <summary>Serves <paramref name="method"/> <paramref name="path"/> under the plugin's prefix, /plugins/{id}.</summary>
    /// <param name="method">An HTTP method, or "*" for any.</param>
    /// <param name="path">
    /// A path starting with "/": literal segments, "{name}" segments that match any one
    /// segment (read them from <see cref="RouteRequest.RouteValues"/>), and a trailing "/*"
    /// that matches any rest. Of several matching routes, a whole path beats a "/*" prefix,
    /// then the one with more literal segments wins. A bad template throws <see cref="ArgumentException"/>.
    /// </param>
    /// <param name="handler">Writes the response.</param>
    /// <param name="allowAnonymous">
    /// Asks for the route to skip the host's auth policy. The host grants it only
    /// when the plugin's manifest declares the same route anonymous, and warns.
    /// </param>
    public PluginBuilder MapRoute(string method, string path, Func<RouteContext, Task> handler, bool allowAnonymous = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        ArgumentNullException.ThrowIfNull(handler);
        if (!Routing.RouteTemplate.TryParse(path, out _, out var error))
        {
            throw new ArgumentException("Route path " + error, nameof(path));
        }

        _routes.Add(new RouteRegistration(method.ToUpperInvariant(), path, allowAnonymous, handler));
        return this;
    }

    /// <summary>Serves GET <paramref name="path"/>.</summary>
    public PluginBuilder MapGet(string path, Func<RouteContext, Task> handler, bool allowAnonymous = false) => MapRoute("GET", path, handler, allowAnonymous);

    /// <summary>Serves POST <paramref name="path"/>.</summary>
    public PluginBuilder MapPost(string path, Func<RouteContext, Task> handler, bool allowAnonymous = false) => MapRoute("POST", path, handler, allowAnonymous);

    /// <summary>
    /// Takes WebSockets at <paramref name="path"/> under the plugin's prefix: the host completes
    /// a client's handshake once the handler accepts it, then relays messages both ways. The
    /// manifest declares it as a GET route (a plain GET is answered 426, Upgrade Required).
    /// The socket ends with the handler: one left open is closed normally (1000), after a
    /// failure with 1011, and with 1001 when the worker stops.
    /// </summary>
    /// <param name="path">A route template, as for <see cref="MapRoute"/>.</param>
    /// <param name="handler">Accepts (or refuses) the handshake, then serves the socket until it ends.</param>
    /// <param name="allowAnonymous">As for <see cref="MapRoute"/>.</param>
    /// <example>
    /// <code>
    /// plugin.MapWebSocket("/echo", async ws =>
    /// {
    ///     using var socket = await ws.AcceptAsync();
    ///     var buffer = new byte[4096];
    ///     while (await socket.ReceiveAsync(buffer, ws.Aborted) is { MessageType: not WebSocketMessageType.Close } got)
    ///     {
    ///         await socket.SendAsync(buffer.AsMemory(0, got.Count), got.MessageType, got.EndOfMessage, ws.Aborted);
    ///     }
    /// });
    /// </code>
    /// </example>
    public PluginBuilder MapWebSocket(string path, Func<WebSocketRouteContext, Task> handler, bool allowAnonymous = false)
    {
        ArgumentNullException.ThrowIfNull(handler);
        MapGet(path, static context =>
        {
            context.Response.StatusCode = 426;
            return context.Response.WriteAsync($"{context.Request.Path} takes WebSocket connections only; open one (ws:// or wss://) instead of a plain GET.", context.Aborted);
        }, allowAnonymous);
        _routes[^1] = _routes[^1] with { WebSocketHandler = handler };
        return this;
    }

    /// <summary>
    /// Publishes the JSON Schema of the plugin's settings and, optionally, a
    /// handler that receives them at start and on every change. Returning
    /// errors rejects the settings; the host then commits nothing.
    /// </summary>
    public PluginBuilder UseSettings(string schemaJson, Func<PluginSettings, CancellationToken, ValueTask<IReadOnlyList<SettingError>>>? onConfigure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(schemaJson);
        _settingsSchema = schemaJson;
        _onConfigure = onConfigure;
        return this;
    }

    /// <summary>Asks for a host permission, for example "settings.write".</summary>
    public PluginBuilder RequirePermission(string permission)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(permission);
        if (!_permissions.Contains(permission))
        {
            _permissions.Add(permission);
        }

        return this;
    }

    internal PluginDefinition Build(IPlugin plugin) =>
        new(plugin.Id, plugin.Version, [.. _hooks], new RouteTable([.. _routes]), _settingsSchema, [.. _permissions], _onConfigure);
}
