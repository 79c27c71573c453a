using System.Runtime.InteropServices;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// Signals to a whole process group. .NET's Process.Kill(entireProcessTree)
/// walks children at one instant and misses those that re-parent or spawn
/// meanwhile; a group signal reaches every member the kernel knows of.
/// </summary>
internal static partial class ProcessSignals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to every process in the group led by <paramref name="groupId"/>.</summary>
    /// <returns>True when at least one process received it; false when the group is already gone.</returns>
    public static bool SignalGroup(int groupId, int signal)
    {
        if (groupId <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(groupId), groupId, "refusing to signal init or every process");
        }

        return Kill(-groupId, signal) == 0;
    }

    /// <summary>Sends <paramref name="signal"/> to one process.</summary>
    public static bool SignalProcess(int pid, int signal)
    {
        if (pid <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(pid), pid, "refusing to signal init or every process");
        }

        return Kill(pid, signal) == 0;
    }

    /// <summary>True when a process group still has members (signal 0 probes without sending).</summary>
    public static bool GroupExists(int groupId) => groupId > 1 && Kill(-groupId, 0) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
