using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

/// <summary>The /proc reads the watchdogs' pass makes for every process on the machine.</summary>
public sealed class ProcFileTests
{
    [Fact]
    public void AProcFileRead_GivesTheFilesBytes_AndRefusesAFileThatIsMissingOrDoesNotFit()
    {
        Span<byte> buffer = stackalloc byte[ProcStatLine.MaxBytes];

        var read = ProcFile.Read(Environment.ProcessId, "cmdline"u8, buffer);

        Assert.Equal(File.ReadAllBytes("/proc/self/cmdline"), buffer[..read].ToArray());
        Assert.Equal(-1, ProcFile.Read(int.MaxValue, "stat"u8, buffer));
        Assert.Equal(-1, ProcFile.Read("/proc/self/no-such-file\0"u8, buffer));
        // A read that fills the buffer may have been cut: refused, not half parsed.
        Assert.Equal(-1, ProcFile.Read(Environment.ProcessId, "stat"u8, buffer[..8]));
    }
}
