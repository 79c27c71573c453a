using System.Diagnostics.CodeAnalysis;

namespace GrpcPlugins.Routing;

/// <summary>
/// A plugin route's path: literal segments, "{name}" segments that match any
/// one segment, and an optional trailing "/*" that matches any rest (or none).
/// One file, compiled into both the host (which matches manifest routes for
/// access) and the Sdk (which picks the handler), so the two always agree.
/// </summary>
internal sealed class RouteTemplate
{
    private readonly Segment[] _segments;
    private readonly bool _prefix;

    private RouteTemplate(string text, Segment[] segments, bool prefix)
    {
        Text = text;
        _segments = segments;
        _prefix = prefix;
        // A loop, not LINQ's Count: a JIT worker would compile it over this struct at start.
        var literals = 0;
        foreach (var segment in segments)
        {
            literals += segment.Parameter is null ? 1 : 0;
        }

        // Whole paths before prefixes; then the most literal segments; then the most segments.
        Rank = (prefix ? 0 : 1_000_000) + (literals * 1_000) + segments.Length;
    }

    /// <summary>The template as written.</summary>
    public string Text { get; }

    /// <summary>Higher is more specific: the best of several matching templates.</summary>
    public int Rank { get; }

    /// <summary>Whether the template captures any value.</summary>
    public bool HasParameters => _segments.Any(s => s.Parameter is not null);

    /// <summary>Parses <paramref name="text"/>, or says what is wrong with it.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out RouteTemplate? template, [NotNullWhen(false)] out string? error)
    {
        template = null;
        if (string.IsNullOrEmpty(text) || text[0] != '/')
        {
            error = $"'{text}' must start with '/'.";
            return false;
        }

        var prefix = text == "/*" || text.EndsWith("/*", StringComparison.Ordinal);
        var body = prefix ? text[..^2] : text;
        var parts = body.Length <= 1 ? [] : body[1..].Split('/');
        var segments = new Segment[parts.Length];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0)
            {
                error = $"'{text}' has an empty segment; write each '/' once.";
                return false;
            }

            if (part.Length > 2 && part[0] == '{' && part[^1] == '}')
            {
                var name = part[1..^1];
                if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || !names.Add(name))
                {
                    error = $"'{text}' has the parameter '{part}'; a parameter is a whole segment, named with letters, digits and '_', once per route.";
                    return false;
                }

                segments[i] = new Segment(null, name);
            }
            else if (part.Contains('{', StringComparison.Ordinal) || part.Contains('}', StringComparison.Ordinal) || part.Contains('*', StringComparison.Ordinal))
            {
                error = $"'{text}' has the segment '{part}'; braces make a whole segment a parameter ('{{id}}'), and '*' may only end a route ('/files/*').";
                return false;
            }
            else
            {
                segments[i] = new Segment(part, null);
            }
        }

        template = new RouteTemplate(text, segments, prefix);
        error = null;
        return true;
    }

    /// <summary>Parses <paramref name="text"/>; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static RouteTemplate Parse(string text) =>
        TryParse(text, out var template, out var error) ? template : throw new ArgumentException("Route path " + error, nameof(text));

    /// <summary>Whether <paramref name="path"/> (normalised: no empty segments but the root's) matches; adds the captured values to <paramref name="values"/> when given.</summary>
    public bool Matches(string path, Dictionary<string, string>? values = null)
    {
        var rest = path.AsSpan(1);
        for (var i = 0; i < _segments.Length; i++)
        {
            if (rest.IsEmpty)
            {
                return false;
            }

            var slash = rest.IndexOf('/');
            var segment = slash < 0 ? rest : rest[..slash];
            rest = slash < 0 ? [] : rest[(slash + 1)..];
            if (_segments[i].Literal is { } literal ? !segment.SequenceEqual(literal) : segment.IsEmpty)
            {
                return false;
            }

            if (values is not null && _segments[i].Parameter is { } name)
            {
                values[name] = segment.ToString();
            }
        }

        return _prefix || rest.IsEmpty;
    }

    private readonly record struct Segment(string? Literal, string? Parameter);
}
