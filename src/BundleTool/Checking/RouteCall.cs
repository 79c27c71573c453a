namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// A route call the author asks the check to make (<c>--call "POST /items/42 @body.json"</c>, or
/// <c>--call 'POST /items/42 {"qty": 1}'</c>): the routes the check cannot call by itself, with
/// parameters or a method that changes state, called with values the author chose. The body, if
/// any, is a file's bytes (<c>@file</c>, or the path of a file that exists, as before <c>@</c>
/// was taken) or the rest of the line itself.
/// </summary>
internal sealed record RouteCall(string Method, string PathAndQuery, string? BodyFile, string? BodyText = null)
{
    public const string Syntax = "\"<METHOD> </path[?query]> [@<body-file> | <body>]\"";

    /// <summary>The call <paramref name="text"/> says, or null with the reason.</summary>
    public static RouteCall? Parse(string text, out string? problem)
    {
        problem = null;
        // Three parts at most: a body given in the line keeps its spaces.
        var parts = text.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length < 2 || !parts[1].StartsWith('/') || !parts[0].All(char.IsAsciiLetterUpper))
        {
            problem = $"--call '{text}': expected {Syntax}, such as \"GET /items/42\", \"POST /orders @order.json\" or 'POST /orders {{\"qty\": 1}}' (the path is the route's, under /plugins/<id>)";
            return null;
        }

        if (parts.Length == 2)
        {
            return new RouteCall(parts[0], parts[1], null);
        }

        var body = parts[2];
        if (body.StartsWith('@'))
        {
            var file = Path.GetFullPath(body[1..]);
            if (!File.Exists(file))
            {
                problem = $"--call '{text}': its body file {file} does not exist";
                return null;
            }

            return new RouteCall(parts[0], parts[1], file);
        }

        return !body.Contains(' ', StringComparison.Ordinal) && File.Exists(body)
            ? new RouteCall(parts[0], parts[1], Path.GetFullPath(body))
            : new RouteCall(parts[0], parts[1], null, body);
    }

    /// <summary>How the check's report names it.</summary>
    public string Target => $"{Method} {PathAndQuery}";

    /// <summary>The body's media type: JSON for a .json file or text that opens as JSON does, else bytes or text.</summary>
    public string ContentType => BodyText is { } text
        ? text.StartsWith('{') || text.StartsWith('[') ? "application/json" : "text/plain; charset=utf-8"
        : BodyFile is { } file && file.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "application/json" : "application/octet-stream";
}
