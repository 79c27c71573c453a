using System.Globalization;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// Whether the kernel is already ending a process. A SIGKILL takes effect only when its
/// process next runs, and on a busy machine that can be well after the kill was sent: until
/// then the process is listed, its environment readable, as if nothing had happened.
/// </summary>
internal static class DyingProcess
{
    // include/linux/sched.h: set as a task begins its exit.
    private const ulong Exiting = 0x4;
    private const ulong KillPending = 1UL << (ProcessSignals.SigKill - 1);

    /// <summary>True when <paramref name="pid"/> has a SIGKILL pending, has begun to exit, or is gone.</summary>
    public static bool IsDying(int pid)
    {
        var stat = ProcStatLine.Read(pid);
        if (stat.IsEmpty)
        {
            return true;
        }

        // Field 9, the task's flags.
        if (ulong.TryParse(ProcStatLine.Field(stat.Span, 9), NumberStyles.None, CultureInfo.InvariantCulture, out var flags) && (flags & Exiting) != 0)
        {
            return true;
        }

        try
        {
            // A kill to the process lands in the shared set, one to its group in each thread's own too.
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if ((line.StartsWith("SigPnd:", StringComparison.Ordinal) || line.StartsWith("ShdPnd:", StringComparison.Ordinal))
                    && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var pending)
                    && (pending & KillPending) != 0)
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }
}
