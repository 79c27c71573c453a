namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// One read of /proc/PID/stat. The process's name (field 2) may hold spaces and parentheses,
/// so its fields are counted from after the last ')': there field 3 of proc(5), the state, is first.
/// </summary>
internal static class ProcStatLine
{
    /// <summary>The line from field 3 on; empty when the process is gone or cannot be read.</summary>
    public static ReadOnlyMemory<char> Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat.AsMemory(stat.LastIndexOf(')') + 2);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // It ended between being listed and being read, or is not ours to read.
            return ReadOnlyMemory<char>.Empty;
        }
    }

    /// <summary>Field <paramref name="number"/> as proc(5) numbers them (3 or more) of what <see cref="Read"/> gave; empty if the line is shorter.</summary>
    public static ReadOnlySpan<char> Field(ReadOnlySpan<char> fromField3, int number)
    {
        var field = 3;
        foreach (var range in fromField3.Split(' '))
        {
            if (field++ == number)
            {
                return fromField3[range];
            }
        }

        return [];
    }
}
