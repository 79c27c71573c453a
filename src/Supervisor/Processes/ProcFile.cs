using System.Globalization;
using System.Runtime.InteropServices;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// One read of a small /proc file with open, read and close alone. The watchdogs' shared pass
/// reads every process's stat, four times a second; through a FileStream each read also took an
/// fstat, a shared flock and its release, and 9 KB of buffers and strings: a pass over 171
/// processes took 2.2–2.7 ms and allocated 1.5 MB, against 1.5 ms and 95 KB (its lists and
/// sums) this way (docs/benchmarks.md, "100 plugins"). "libc" is the C library the runtime
/// already loaded (libc.so.6), as for <see cref="ProcessSignals"/>'s kill.
/// </summary>
internal static partial class ProcFile
{
    private const int ReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC on Linux

    // "/proc/" + the longest pid (10 digits) + "/" + a file's name + NUL.
    private const int MaxPathBytes = 64;

    /// <summary>
    /// Reads /proc/<paramref name="pid"/>/<paramref name="file"/> into <paramref name="destination"/>:
    /// the bytes read, or -1 when it cannot be read (the process is gone or not ours to read) or
    /// does not fit.
    /// </summary>
    public static int Read(int pid, ReadOnlySpan<byte> file, Span<byte> destination)
    {
        Span<byte> path = stackalloc byte[MaxPathBytes];
        "/proc/"u8.CopyTo(path);
        if (!pid.TryFormat(path[6..], out var digits, provider: CultureInfo.InvariantCulture) || 6 + digits + 2 + file.Length > MaxPathBytes)
        {
            return -1;
        }

        var at = 6 + digits;
        path[at++] = (byte)'/';
        file.CopyTo(path[at..]);
        path[at + file.Length] = 0;
        return Read(path, destination);
    }

    /// <summary>Reads the file at <paramref name="path"/> (NUL-terminated) as <see cref="Read(int, ReadOnlySpan{byte}, Span{byte})"/> does.</summary>
    public static int Read(ReadOnlySpan<byte> path, Span<byte> destination)
    {
        var fd = Open(path, ReadOnlyCloseOnExec);
        if (fd < 0)
        {
            return -1;
        }

        try
        {
            // A /proc file gives all it has in one read when the buffer can hold it; a read that
            // fills the buffer may have been cut, so it is refused rather than parsed.
            var read = ReadFile(fd, destination, destination.Length);
            return read < 0 || read == destination.Length ? -1 : (int)read;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open")]
    private static partial int Open(ReadOnlySpan<byte> path, int flags);

    [LibraryImport("libc", EntryPoint = "read")]
    private static partial nint ReadFile(int fd, Span<byte> buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
