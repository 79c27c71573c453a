using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GrpcPlugins.Host.Routes.WebSockets;

/// <summary>Whether a request asks for a WebSocket, whether or not the application added the WebSockets middleware.</summary>
internal static class WebSocketHandshake
{
    /// <summary>
    /// An HTTP/1.1 upgrade to "websocket", or an HTTP/2 extended CONNECT for it (RFC 8441).
    /// The middleware's own <c>IsWebSocketRequest</c> is false without the middleware, and
    /// such a request would reach the plugin as a plain GET it cannot answer as asked.
    /// </summary>
    public static bool IsAsked(HttpContext context)
    {
        // Cheap for the plain requests of the route path: a known header read, no feature lookup.
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method))
        {
            return context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect
                && string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
        }

        return request.Headers.Upgrade.Count > 0
            && HttpMethods.IsGet(request.Method)
            && request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase)
            && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true };
    }

    /// <summary>
    /// The method a request's route and hooks go by: a WebSocket asked over HTTP/2 is a CONNECT,
    /// and is taken as the GET it is over HTTP/1.1, so a manifest's route or a hook matched on
    /// GET covers it whichever version the client speaks.
    /// </summary>
    public static string MethodOf(HttpContext context) =>
        HttpMethods.IsConnect(context.Request.Method) && IsAsked(context) ? HttpMethods.Get : context.Request.Method;

    /// <summary>Whether the application's pipeline can complete the handshake (it added <c>UseWebSockets()</c>).</summary>
    public static bool CanAccept(HttpContext context) => context.WebSockets.IsWebSocketRequest;
}
