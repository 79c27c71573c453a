using System.Diagnostics;
using System.Globalization;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

/// <summary>A real process's /proc/PID/stat line, read field by field.</summary>
public sealed class ProcStatLineTests
{
    [Fact]
    public async Task AProgramNamedWithSpacesAndParentheses_HasItsFieldsCountedAfterItsName()
    {
        // A plugin names its own executables: a name such as this one shifts every field of a naive split.
        var directory = Directory.CreateTempSubdirectory("gpt-stat-");
        var program = Path.Combine(directory.FullName, ") 1 (2 ) 3");
        File.Copy("/bin/sleep", program);
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        using var child = Process.Start(new ProcessStartInfo(program, "30") { RedirectStandardInput = true })!;
        try
        {
            var line = ProcStatLine.Read(child.Id).Span;

            Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), ProcStatLine.Field(line, 4).ToString());
            Assert.Contains(ProcStatLine.Field(line, 3).ToString(), new[] { "R", "S", "D" });
            Assert.Equal(ProcessStartTime.Read(child.Id), long.Parse(ProcStatLine.Field(line, 22), CultureInfo.InvariantCulture));
            Assert.True(ProcStatLine.Field(line, 60).IsEmpty, "a field past the line's end reads as empty");
        }
        finally
        {
            child.Kill();
            await child.WaitForExitAsync();
            directory.Delete(recursive: true);
        }

        Assert.True(ProcStatLine.Read(child.Id).IsEmpty, "a process waited for has no stat line");
    }
}
