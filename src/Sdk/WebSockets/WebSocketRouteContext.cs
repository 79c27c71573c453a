using System.Net.WebSockets;

namespace GrpcPlugins.Sdk;

/// <summary>
/// A client asking to open a WebSocket on one of the plugin's routes. The host holds the
/// client's handshake until the handler calls <see cref="AcceptAsync"/> or
/// <see cref="RefuseAsync"/>; a handler that returns having done neither refuses with 500.
/// </summary>
public sealed class WebSocketRouteContext
{
    private readonly WebSockets.WebSocketSession _session;

    internal WebSocketRouteContext(RouteRequest request, IReadOnlyList<string> subProtocols, IPluginHost host, WebSockets.WebSocketSession session)
    {
        Request = request;
        SubProtocols = subProtocols;
        Host = host;
        _session = session;
    }

    /// <summary>The handshake request: path, route values, query, headers, user and tenant. It has no body.</summary>
    public RouteRequest Request { get; }

    /// <summary>The subprotocols the client offers (Sec-WebSocket-Protocol), in its order of preference.</summary>
    public IReadOnlyList<string> SubProtocols { get; }

    /// <summary>The host's services for this plugin (settings).</summary>
    public IPluginHost Host { get; }

    /// <summary>
    /// Fires when the WebSocket ends from outside the handler: the client went away, the host
    /// dropped the call, or the worker is stopping (the Sdk then closes the socket with 1001,
    /// going away, so the client reconnects to the plugin's next worker).
    /// </summary>
    public CancellationToken Aborted => _session.Aborted;

    /// <summary>
    /// Completes the handshake and returns the WebSocket. Messages of any size arrive in the
    /// pieces the client sent them in; a message larger than the host's limit
    /// (PluginHost:MaxWebSocketMessageBytes) closes the socket with 1009 before it reaches here.
    /// </summary>
    /// <param name="subProtocol">One of <see cref="SubProtocols"/>, or null for none.</param>
    /// <param name="compress">
    /// Asks the host to compress the socket's messages to and from the client (permessage-deflate),
    /// which it does when the client offered it and the host allows it
    /// (PluginHost:AllowWebSocketCompression); otherwise the socket opens uncompressed. Leave it off
    /// for a socket that sends a secret in the same message as text a client chooses: compression
    /// can reveal it, as CRIME and BREACH did.
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="subProtocol"/> is not one the client offered.</exception>
    /// <exception cref="InvalidOperationException">The handshake was already accepted or refused.</exception>
    public Task<WebSocket> AcceptAsync(string? subProtocol = null, bool compress = false)
    {
        if (subProtocol is not null && !SubProtocols.Contains(subProtocol, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The client did not offer the subprotocol '{subProtocol}'; it offered {(SubProtocols.Count == 0 ? "none" : string.Join(", ", SubProtocols))}.", nameof(subProtocol));
        }

        return _session.AcceptAsync(subProtocol, compress);
    }

    /// <summary>Answers the handshake with an HTTP error instead of a WebSocket.</summary>
    /// <param name="statusCode">400 to 599.</param>
    /// <param name="reason">Why, for the client: the detail of the host's problem answer.</param>
    /// <exception cref="InvalidOperationException">The handshake was already accepted or refused.</exception>
    public Task RefuseAsync(int statusCode, string reason)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentNullException.ThrowIfNull(reason);
        return _session.RefuseAsync(statusCode, reason);
    }
}
