using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TestPlugin;

/// <summary>Misbehaviours that happen outside any one call.</summary>
internal static partial class Modes
{
    // Held for the life of the process: while its write end is open, the stdin it feeds never ends.
    private static System.IO.Pipes.AnonymousPipeServerStream? s_endlessStdin;

    public static void FloodStderr(long bytes)
    {
        var line = new string('x', 1000) + "\n";
        var stderr = Console.OpenStandardError();
        var data = System.Text.Encoding.ASCII.GetBytes(line);
        for (long written = 0; written < bytes; written += data.Length)
        {
            stderr.Write(data);
        }

        // One endless line as well: the host must cut it, not buffer it.
        var endless = new byte[1024 * 1024];
        Array.Fill(endless, (byte)'y');
        for (var i = 0; i < 8; i++)
        {
            stderr.Write(endless);
        }

        stderr.Write("\n"u8);
        stderr.Flush();
    }

    public static void SpawnGrandchildren(int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var child = Process.Start(new ProcessStartInfo("sleep", "1000") { UseShellExecute = false });
            Console.Error.WriteLine($"info: grandchild pid {child!.Id}");
        }
    }

    /// <summary>Starts a helper in a session of its own: <c>sleep</c>, or this program in <paramref name="mode"/>.</summary>
    public static void SpawnEscapee(bool clearEnvironment, string? mode = null)
    {
        var start = new ProcessStartInfo(clearEnvironment ? "env" : "setsid") { UseShellExecute = false };
        string[] program = mode is null ? ["/bin/sleep", "1000"] : [.. GrpcPlugins.Supervisor.Processes.OwnCommand.Line(), mode];
        foreach (var argument in clearEnvironment ? ["-i", "/usr/bin/setsid", .. program] : program)
        {
            start.ArgumentList.Add(argument);
        }

        using var child = Process.Start(start);
        Console.Error.WriteLine($"info: escapee pid {child!.Id}");
    }

    /// <summary>
    /// Runs <paramref name="leak"/> every <paramref name="everyMs"/> from <paramref name="afterMs"/> on,
    /// at most 2,000 times: a host that failed to stop it fails its test, not the machine.
    /// </summary>
    public static void Leak(Action leak, int afterMs, int everyMs = 10)
    {
        new Thread(() =>
        {
            Thread.Sleep(afterMs);
            for (var n = 0; n < 2000; n++)
            {
                leak();
                Thread.Sleep(everyMs);
            }
        }) { IsBackground = true }.Start();
    }

    /// <summary>Starts <c>true</c> and waits for it, again and again, on two threads of its own.</summary>
    public static void SpawnOften()
    {
        for (var i = 0; i < 2; i++)
        {
            new Thread(() =>
            {
                while (true)
                {
                    using var helper = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
                    helper.WaitForExit();
                }
            }) { IsBackground = true }.Start();
        }
    }

    public static void HogMemory(long atMostBytes = long.MaxValue)
    {
        // Native memory, touched page by page: invisible to the GC's heap limit, so only the host's watchdog can stop it.
        new Thread(() =>
        {
            for (long held = 0; held < atMostBytes; held += 8 * 1024 * 1024)
            {
                var block = Marshal.AllocHGlobal(8 * 1024 * 1024);
                for (var offset = 0; offset < 8 * 1024 * 1024; offset += 4096)
                {
                    Marshal.WriteByte(block, offset, 1);
                }

                Thread.Sleep(20);
            }
        }) { IsBackground = true }.Start();
    }

    public static void IgnoreShutdown()
    {
        // SIGTERM does nothing, a foreground thread keeps the process alive after the Sdk
        // stops, and an exit handler that never returns blocks even Environment.Exit.
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => c.Cancel = true);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Thread.Sleep(Timeout.Infinite);
        new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = false }.Start();
    }

    /// <summary>
    /// Honours Shutdown but never sees its host go: fd 0 becomes a pipe this process holds open
    /// itself, so the Sdk's stdin watch never reads an end (a worker written without one).
    /// </summary>
    public static void IgnoreStdin()
    {
        s_endlessStdin = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        if (Dup2((int)s_endlessStdin.ClientSafePipeHandle.DangerousGetHandle(), 0) < 0)
        {
            throw new InvalidOperationException($"dup2 failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int oldFd, int newFd);
}
