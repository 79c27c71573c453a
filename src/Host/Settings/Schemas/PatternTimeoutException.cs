namespace GrpcPlugins.Host.Settings.Schemas;

/// <summary>A settings value took longer than <see cref="BoundedPattern.MatchTimeout"/> against a schema's pattern.</summary>
internal sealed class PatternTimeoutException(string pattern, string path)
    : Exception($"the settings schema's pattern '{pattern}' took longer than {BoundedPattern.MatchTimeout.TotalMilliseconds:0} ms on this value, so it was not accepted; the pattern backtracks too much: its plugin's author should simplify it (no nested quantifiers such as (a+)+)")
{
    /// <summary>Where in the settings the value is, as the validator names it ("" for the root).</summary>
    public string Path { get; } = path;
}
