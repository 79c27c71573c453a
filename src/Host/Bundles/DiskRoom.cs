namespace GrpcPlugins.Host.Bundles;

/// <summary>
/// Whether a disk has room for what a bundle is about to write there, keeping a reserve: a
/// bundle of native libraries can be hundreds of MiB, and an install that filled the disk the
/// store is on would fail settings writes and plugins' data too. Checked before a byte is
/// written, where the size is known, and as it is written, where it is not; a write that still
/// meets a full disk says so the same way.
/// </summary>
internal static class DiskRoom
{
    // ENOSPC on Linux and macOS; ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL on Windows.
    private static readonly int[] s_diskFull = [28, 39, 112];

    /// <summary>Throws <see cref="NotEnoughRoomException"/> unless <paramref name="directory"/>'s disk has <paramref name="bytes"/> and the reserve free.</summary>
    public static void Ensure(string directory, long bytes, long reserve, string what) =>
        Ensure(directory, bytes, reserve, () => $"{what} needs {Mib(bytes)} MiB");

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/>, a file in
    /// <paramref name="directory"/>, making sure before each <see cref="CopyWindowBytes"/> that the
    /// disk keeps the reserve after them: a body of unknown length is refused before it fills the
    /// disk, not after. Throws <see cref="NotEnoughRoomException"/>.
    /// </summary>
    public static async Task CopyAsync(Stream source, Stream destination, string directory, long reserve, string what, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81_920);
        try
        {
            long written = 0, roomUpTo = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (written + read > roomUpTo)
                {
                    var sofar = written;
                    Ensure(directory, CopyWindowBytes, reserve, () => $"{what} had reached {Mib(sofar)} MiB and was still coming");
                    roomUpTo = written + CopyWindowBytes;
                }

                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                written += read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>How much a copy writes between two looks at the disk's free space (a statfs each).</summary>
    public const long CopyWindowBytes = 16L * 1024 * 1024;

    private static void Ensure(string directory, long bytes, long reserve, Func<string> need)
    {
        var free = FreeBytes(directory);
        if (free - bytes < reserve)
        {
            throw new NotEnoughRoomException(Say(directory, free, need()));
        }
    }

    /// <summary>Whether <paramref name="exception"/> is a write that met a full disk.</summary>
    public static bool IsDiskFull(IOException exception) => s_diskFull.Contains(exception.HResult & 0xFFFF);

    /// <summary>The same refusal for a write that met a full disk anyway (another writer took the room meanwhile).</summary>
    public static NotEnoughRoomException Full(string directory, string what, IOException exception)
    {
        long free;
        try
        {
            free = FreeBytes(directory);
        }
        catch (IOException)
        {
            free = 0;
        }

        return new NotEnoughRoomException(Say(directory, free, $"{what} filled it"), exception);
    }

    /// <summary>The free bytes of the disk <paramref name="directory"/> is on, or will be once created (its nearest existing parent's).</summary>
    private static long FreeBytes(string directory)
    {
        var path = Path.GetFullPath(directory);
        while (!Directory.Exists(path) && Path.GetDirectoryName(path) is { } parent)
        {
            path = parent;
        }

        return new DriveInfo(path).AvailableFreeSpace;
    }

    private static string Say(string directory, long free, string need) =>
        $"not enough room: the disk of {Path.GetFullPath(directory)} has {Mib(free)} MiB free, {need}, and the host keeps a tenth of PluginHost:MinFreeDiskMiB free for its store and the plugins' data. Free space there, or move that directory to a larger disk.";

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
}
