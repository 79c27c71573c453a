using System.Text;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// One read of /proc/PID/stat. The process's name (field 2) may hold spaces and parentheses,
/// so its fields are counted from after the last ')': there field 3 of proc(5), the state, is first.
/// </summary>
internal static class ProcStatLine
{
    /// <summary>
    /// Room for a whole line: 52 numbers of at most 20 digits, their spaces, and a name of at
    /// most 64 bytes (the kernel's TASK_COMM_LEN is 16; a kernel thread's may be longer).
    /// </summary>
    public const int MaxBytes = 2048;

    /// <summary>The line from field 3 on; empty when the process is gone or cannot be read.</summary>
    public static ReadOnlyMemory<char> Read(int pid)
    {
        Span<char> line = stackalloc char[MaxBytes];
        var length = Read(pid, line);
        return length == 0 ? ReadOnlyMemory<char>.Empty : line[..length].ToString().AsMemory();
    }

    /// <summary>
    /// The line from field 3 on, written into <paramref name="destination"/> (at least
    /// <see cref="MaxBytes"/> long); its length, 0 when the process is gone or cannot be read.
    /// Nothing is allocated: the watchdogs' pass reads every process on the machine with it.
    /// </summary>
    public static int Read(int pid, Span<char> destination)
    {
        Span<byte> bytes = stackalloc byte[MaxBytes];
        var read = ProcFile.Read(pid, "stat"u8, bytes);
        var close = read > 0 ? bytes[..read].LastIndexOf((byte)')') : -1;
        if (close < 0 || read < close + 2)
        {
            // It ended between being listed and being read, or is not ours to read.
            return 0;
        }

        // After the name every field is ASCII: a state letter and numbers.
        var fields = bytes[(close + 2)..read].TrimEnd((byte)'\n');
        return Encoding.Latin1.GetChars(fields, destination);
    }

    /// <summary>Field <paramref name="number"/> as proc(5) numbers them (3 or more) of what <see cref="Read(int)"/> gave; empty if the line is shorter.</summary>
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
