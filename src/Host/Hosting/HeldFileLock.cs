namespace GrpcPlugins.Host.Hosting;

/// <summary>
/// An exclusive advisory lock (flock) on a file, held until disposed. The kernel drops it
/// when its process ends, however it ends, so a lock that is held has a live holder, in
/// whatever pid namespace or container that holder runs: what a pid in a file cannot say.
/// </summary>
internal sealed class HeldFileLock : IDisposable
{
    // flock's EWOULDBLOCK, which .NET carries in the IOException's HResult.
    private const int HeldByAnother = 11;

    private readonly FileStream _stream;

    private HeldFileLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock on <paramref name="path"/>, creating the file; null when another open file holds it.</summary>
    public static HeldFileLock? TryTake(string path)
    {
        try
        {
            // FileShare.None is flock(LOCK_EX | LOCK_NB) on Unix, on a close-on-exec descriptor: no worker inherits it.
            return new HeldFileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException ex) when (ex.HResult == HeldByAnother)
        {
            return null;
        }
    }

    /// <summary>Whether another open file holds the lock on <paramref name="path"/>; false when there is no such file.</summary>
    public static bool IsHeld(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        using var taken = TryTake(path);
        return taken is null;
    }

    public void Dispose() => _stream.Dispose();
}
