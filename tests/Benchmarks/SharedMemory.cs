namespace GrpcPlugins.Benchmarks;

/// <summary>
/// What of a process's resident memory is its own: RSS counts every page it maps, the
/// runtime's and the framework's file pages too, which every .NET process on the machine
/// (the host included) shares through the page cache.
/// </summary>
internal static class SharedMemory
{
    /// <summary>PSS (each shared page split between the processes mapping it) and private bytes (pages no other process maps), from /proc/PID/smaps_rollup.</summary>
    public static (long Pss, long Private) Read(int pid)
    {
        long pss = 0, own = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !long.TryParse(parts[1], out var kiB))
            {
                continue;
            }

            switch (parts[0])
            {
                case "Pss:":
                    pss = kiB * 1024;
                    break;
                case "Private_Clean:" or "Private_Dirty:":
                    own += kiB * 1024;
                    break;
            }
        }

        return (pss, own);
    }
}
