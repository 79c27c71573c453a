using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Supervisor.Logs;

/// <summary>Recognises the level a plugin's stderr line carries, in the common spellings.</summary>
internal static class StderrLevel
{
    private static readonly (string Prefix, LogLevel Level)[] s_prefixes =
    [
        ("trce:", LogLevel.Trace), ("dbug:", LogLevel.Debug), ("info:", LogLevel.Information),
        ("warn:", LogLevel.Warning), ("fail:", LogLevel.Error), ("crit:", LogLevel.Critical),
        ("[trace]", LogLevel.Trace), ("[debug]", LogLevel.Debug), ("[info]", LogLevel.Information),
        ("[warn]", LogLevel.Warning), ("[warning]", LogLevel.Warning), ("[error]", LogLevel.Error),
        ("trace:", LogLevel.Trace), ("debug:", LogLevel.Debug), ("warning:", LogLevel.Warning),
        ("error:", LogLevel.Error), ("critical:", LogLevel.Critical), ("fatal:", LogLevel.Critical),
        ("panic:", LogLevel.Critical), ("unhandled exception", LogLevel.Critical),
        ("trace ", LogLevel.Trace), ("debug ", LogLevel.Debug), ("info ", LogLevel.Information),
        ("warn ", LogLevel.Warning), ("warning ", LogLevel.Warning), ("error ", LogLevel.Error),
    ];

    /// <summary>The level of <paramref name="line"/>; Information when it names none.</summary>
    public static LogLevel Of(string line)
    {
        var span = line.AsSpan().TrimStart();
        foreach (var (prefix, level) in s_prefixes)
        {
            if (span.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return level;
            }
        }

        return span.Contains("level=error", StringComparison.OrdinalIgnoreCase) ? LogLevel.Error
            : span.Contains("level=warn", StringComparison.OrdinalIgnoreCase) ? LogLevel.Warning
            : LogLevel.Information;
    }
}
