using System.Text;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// The grpc-message trailer travels percent-encoded (UTF-8, every byte outside
/// printable ASCII and '%' itself as %XX), so any status detail survives HTTP/2's header rules.
/// </summary>
internal static class GrpcStatusMessage
{
    public static string Encode(string detail)
    {
        if (!NeedsEncoding(detail))
        {
            return detail;
        }

        var builder = new StringBuilder(detail.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(detail))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static bool NeedsEncoding(string detail)
    {
        foreach (var c in detail)
        {
            if (c is < ' ' or > '~' or '%')
            {
                return true;
            }
        }

        return false;
    }
}
