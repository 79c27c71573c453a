using System.Globalization;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// A process's start time as the kernel keeps it. A pid alone names a process only until
/// the kernel gives it to the next one; a pid with its start time names one process for
/// good, which is what makes it safe to kill a listed orphan or remove its files later.
/// </summary>
internal static class ProcessStartTime
{
    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or null if it is gone.</summary>
    public static long? Read(int pid) =>
        long.TryParse(ProcStatLine.Field(ProcStatLine.Read(pid).Span, 22), NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : null;
}
