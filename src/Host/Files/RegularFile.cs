using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace GrpcPlugins.Host.Files;

/// <summary>
/// Opens a file the host does not own (a plugin folder's, the trust store's) only when it is a
/// regular file, and reads one only up to a bound. A plain open of a FIFO waits for a writer that
/// may never come, and a read of a link to /dev/zero never ends: a plugin folder with either would
/// hold the host's start, or a reload, for ever. A plugin's worker runs as the host's user, so its
/// own installed folder is within its reach: this is a plugin's way to wedge the host, closed here.
/// The file is opened without blocking and judged by what was opened, not by its name, so nothing
/// can be swapped in between.
/// </summary>
internal static partial class RegularFile
{
    // O_RDONLY | O_NONBLOCK | O_CLOEXEC on Linux (the same on x86-64 and arm64).
    private const int ReadOnlyNonBlocking = 0x800 | 0x80000;
    private const int EmptyPath = 0x1000; // AT_EMPTY_PATH: statx of the descriptor itself
    private const uint TypeAndSize = 0x1 | 0x200; // STATX_TYPE | STATX_SIZE
    private const int ModeOffset = 28; // struct statx's stx_mode (u16)
    private const int SizeOffset = 40; // and stx_size (u64)
    private const int NoSuchFile = 2; // ENOENT
    private const int AccessDenied = 13; // EACCES

    /// <summary>Opens <paramref name="path"/> (links followed) for reading; throws <see cref="IOException"/> saying what it is when it is not a regular file.</summary>
    public static FileStream OpenRead(string path) => new(OpenHandle(path, out _), FileAccess.Read, bufferSize: 0);

    /// <summary>
    /// The whole of <paramref name="path"/>; throws <see cref="IOException"/> when it is not a regular
    /// file or holds more than <paramref name="limit"/> bytes (checked as it is read too: a file may grow).
    /// </summary>
    public static byte[] ReadAllBytes(string path, int limit)
    {
        using var handle = OpenHandle(path, out var size);
        if (size > limit)
        {
            throw TooLarge(path, limit);
        }

        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        var buffer = new byte[(int)size + 1];
        var read = 0;
        int last;
        while ((last = stream.Read(buffer, read, buffer.Length - read)) > 0)
        {
            read += last;
            if (read == buffer.Length)
            {
                if (read > limit)
                {
                    throw TooLarge(path, limit);
                }

                Array.Resize(ref buffer, Math.Min(limit + 1, buffer.Length * 2));
            }
        }

        return buffer.AsSpan(0, read).ToArray();
    }

    /// <summary><see cref="ReadAllBytes"/> as text, as <see cref="File.ReadAllText(string)"/> reads it: UTF-8 unless a byte-order mark says UTF-16 or UTF-32.</summary>
    public static string ReadAllText(string path, int limit)
    {
        using var reader = new StreamReader(new MemoryStream(ReadAllBytes(path, limit)), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static SafeFileHandle OpenHandle(string path, out long size)
    {
        var fd = Open(NulTerminated(path), ReadOnlyNonBlocking);
        if (fd < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            var message = $"cannot open '{path}': {Marshal.GetPInvokeErrorMessage(error)}";
            throw error switch
            {
                NoSuchFile => new FileNotFoundException(message, path),
                AccessDenied => new UnauthorizedAccessException(message),
                _ => new IOException(message),
            };
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        Span<byte> status = stackalloc byte[256];
        if (Statx(fd, [0], EmptyPath, TypeAndSize, status) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new IOException($"cannot read what '{path}' is: {Marshal.GetPInvokeErrorMessage(error)}");
        }

        var kind = BinaryPrimitives.ReadUInt16LittleEndian(status[ModeOffset..]) & 0xF000;
        if (kind != 0x8000)
        {
            handle.Dispose();
            throw new IOException($"'{path}' is {KindName(kind)}, not a regular file: the host reads no such file, which could hold it waiting for ever. Replace it with a regular file or remove it.");
        }

        size = (long)BinaryPrimitives.ReadUInt64LittleEndian(status[SizeOffset..]);
        return handle;
    }

    private static string KindName(int kind) => kind switch
    {
        0x1000 => "a FIFO (named pipe)",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0xC000 => "a socket",
        0x4000 => "a directory",
        _ => $"a file of type 0{Convert.ToString(kind >> 12, 8)}",
    };

    private static IOException TooLarge(string path, int limit) =>
        new($"'{path}' holds more than {limit} bytes, more than such a file ever needs; it is not read. Check that it is the file it should be.");

    private static byte[] NulTerminated(string path)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(ReadOnlySpan<byte> path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static partial int Statx(int directory, ReadOnlySpan<byte> path, int flags, uint mask, Span<byte> status);
}
