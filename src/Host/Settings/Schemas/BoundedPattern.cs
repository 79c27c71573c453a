using System.Text.RegularExpressions;

namespace GrpcPlugins.Host.Settings.Schemas;

/// <summary>
/// A settings schema's regular expression, matched in bounded time. A plugin's schema is
/// third-party input that the host runs on values admins and the plugin itself send: a
/// pattern that backtracks exponentially (<c>^(a+)+$</c>) would otherwise hold a host
/// thread for minutes on a 30-character value. The linear-time engine is used where the
/// pattern allows it; backreferences and lookarounds fall back to the backtracking engine
/// under <see cref="MatchTimeout"/>.
/// </summary>
internal sealed class BoundedPattern
{
    /// <summary>How long one value may take against one pattern on the backtracking engine.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(200);

    private readonly Regex _regex;

    private BoundedPattern(string pattern, Regex regex)
    {
        Pattern = pattern;
        _regex = regex;
    }

    /// <summary>The pattern as the schema wrote it.</summary>
    public string Pattern { get; }

    /// <summary>The pattern compiled, or null with what is wrong with it.</summary>
    public static BoundedPattern? TryCreate(string pattern, out string? error)
    {
        error = null;
        try
        {
            return new(pattern, new Regex(pattern, RegexOptions.NonBacktracking, MatchTimeout));
        }
        catch (NotSupportedException)
        {
            // Backreferences, lookarounds, atomic groups: the linear engine cannot run them.
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return null;
        }

        try
        {
            return new(pattern, new Regex(pattern, RegexOptions.None, MatchTimeout));
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>Whether <paramref name="value"/> matches; throws <see cref="PatternTimeoutException"/> past the timeout.</summary>
    public bool IsMatch(string value, string path)
    {
        try
        {
            return _regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new PatternTimeoutException(Pattern, path);
        }
    }
}
