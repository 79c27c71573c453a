using System.Net.WebSockets;
using System.Text;

namespace GrpcPlugins.Host.Routes.WebSockets;

/// <summary>
/// Which close statuses and reasons may cross to the other end (RFC 6455, 7.4 and 5.5): a
/// plugin is not trusted to send only valid ones, and the framework's WebSocket throws on
/// the rest, which would leave the client without any close.
/// </summary>
internal static class CloseStatusRules
{
    /// <summary>A close frame's payload holds 125 bytes: two for the status, the rest for the reason.</summary>
    public const int MaxReasonBytes = 123;

    /// <summary>Whether <paramref name="status"/> may be sent in a close frame.</summary>
    public static bool MaySend(int status) => status is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    /// <summary>The status to send for <paramref name="status"/> from the other end: itself when it may be sent, else 1011 (server error).</summary>
    public static WebSocketCloseStatus Relayable(int status) =>
        MaySend(status) ? (WebSocketCloseStatus)status : WebSocketCloseStatus.InternalServerError;

    /// <summary><paramref name="reason"/> cut to what a close frame holds, never inside a character.</summary>
    public static string Fit(string? reason)
    {
        if (string.IsNullOrEmpty(reason) || Encoding.UTF8.GetByteCount(reason) <= MaxReasonBytes)
        {
            return reason ?? string.Empty;
        }

        // A character is a byte at least, so no more characters than bytes can fit; "…" takes three.
        var end = Math.Min(reason.Length, MaxReasonBytes);
        while (end > 0 && (Encoding.UTF8.GetByteCount(reason.AsSpan(0, end)) > MaxReasonBytes - 3 || char.IsHighSurrogate(reason[end - 1])))
        {
            end--;
        }

        return string.Concat(reason.AsSpan(0, end), "…");
    }
}
