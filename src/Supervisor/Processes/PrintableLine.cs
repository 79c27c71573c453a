using System.Globalization;
using System.Text;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// A worker's output line as the host logs and shows it: control characters written as
/// escapes. A plugin's stderr goes into the host's own log under a prefix naming the plugin;
/// a carriage return, a backspace or a terminal escape in it would let the plugin overwrite
/// that prefix on an admin's terminal or forge a line that reads as the host's, and the
/// bidirectional overrides would do the same to whoever reads the text.
/// </summary>
internal static class PrintableLine
{
    /// <summary>The line unchanged when it has nothing to escape; otherwise each such character as <c>\x1B</c> or <c>\u202E</c>.</summary>
    public static string Of(string line)
    {
        if (!line.Any(NeedsEscape))
        {
            return line;
        }

        var shown = new StringBuilder(line.Length + 16);
        foreach (var c in line)
        {
            if (NeedsEscape(c))
            {
                shown.Append(c < 0x100 ? $"\\x{(int)c:X2}" : $"\\u{(int)c:X4}");
            }
            else
            {
                shown.Append(c);
            }
        }

        return shown.ToString();
    }

    // Tab is text; the other C0 and C1 controls and DEL are not. Bidi embeddings, overrides and isolates reorder what is read.
    private static bool NeedsEscape(char c) =>
        (c < 0x20 && c != '\t') || c is >= '\u007f' and <= '\u009f' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';
}
