namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// A route call the author asks the check to make (<c>--call "POST /items/42 body.json"</c>): the
/// routes the check cannot call by itself, with parameters or a method that changes state,
/// called with values the author chose. The body, if any, is a file's bytes.
/// </summary>
internal sealed record RouteCall(string Method, string PathAndQuery, string? BodyFile)
{
    public const string Syntax = "\"<METHOD> </path[?query]> [<body-file>]\"";

    /// <summary>The call <paramref name="text"/> says, or null with the reason.</summary>
    public static RouteCall? Parse(string text, out string? problem)
    {
        problem = null;
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length is < 2 or > 3 || !parts[1].StartsWith('/') || !parts[0].All(char.IsAsciiLetterUpper))
        {
            problem = $"--call '{text}': expected {Syntax}, such as \"GET /items/42\" or \"POST /orders order.json\" (the path is the route's, under /plugins/<id>)";
            return null;
        }

        var body = parts.Length == 3 ? Path.GetFullPath(parts[2]) : null;
        if (body is not null && !File.Exists(body))
        {
            problem = $"--call '{text}': its body file {body} does not exist";
            return null;
        }

        return new RouteCall(parts[0], parts[1], body);
    }

    /// <summary>How the check's report names it.</summary>
    public string Target => $"{Method} {PathAndQuery}";
}
