using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TestPlugin;

/// <summary>Misbehaviours that happen outside any one call.</summary>
internal static class Modes
{
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

    public static void HogMemory()
    {
        // Native memory, touched page by page: invisible to the GC's heap limit, so only the host's watchdog can stop it.
        new Thread(() =>
        {
            while (true)
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
}
