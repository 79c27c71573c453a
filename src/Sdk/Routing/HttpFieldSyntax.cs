namespace GrpcPlugins.Routing;

/// <summary>
/// What HTTP allows in a response's status and header fields (RFC 9110, 5.1,
/// 5.5 and 15). The host checks every plugin's answer with it whatever its
/// language (Kestrel refuses a bad field half-way through the head, which left
/// the client with a reset connection; the host answers 502 saying what was
/// wrong instead), and the Sdk refuses the same field where a C# handler sets
/// it. Compiled into both, so they cannot disagree.
/// </summary>
internal static class HttpFieldSyntax
{
    private static readonly System.Buffers.SearchValues<char> s_tokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>What is wrong with a final response status, or null.</summary>
    public static string? StatusProblem(int status) =>
        status is >= 200 and <= 599 ? null : $"status {status} is not a final HTTP status (200-599)";

    /// <summary>True when <paramref name="text"/> is an HTTP token (a header name, a method).</summary>
    public static bool IsToken(string text) => text.Length > 0 && !text.AsSpan().ContainsAnyExcept(s_tokenChars);

    /// <summary>What is wrong with a header field, or null.</summary>
    public static string? HeaderProblem(string name, string value)
    {
        if (!IsToken(name))
        {
            return $"'{Printable(name)}' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)";
        }

        foreach (var c in value)
        {
            if (c is < ' ' and not '\t' or > '~')
            {
                return $"the value of header '{name}' holds the character U+{(int)c:X4}; a header value is printable ASCII, spaces and tabs";
            }
        }

        return null;
    }

    /// <summary>Throws where a plugin sets a field the host would refuse as the plugin's error.</summary>
    public static void ThrowIfNotAField(string name, string value, string paramName)
    {
        if (HeaderProblem(name, value) is { } problem)
        {
            throw new ArgumentException($"The host would refuse this answer as the plugin's error: {problem}.", paramName);
        }
    }

    /// <summary>Throws where a plugin sets a status the host would refuse as the plugin's error.</summary>
    public static void ThrowIfNotAFinalStatus(int status, string paramName)
    {
        if (StatusProblem(status) is { } problem)
        {
            throw new ArgumentOutOfRangeException(paramName, status, $"The host would refuse this answer as the plugin's error: {problem}.");
        }
    }

    // A bad name may itself hold line breaks: never echo it raw into a log line or a response.
    private static string Printable(string text) =>
        string.Concat(text.Select(c => c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString()));
}
