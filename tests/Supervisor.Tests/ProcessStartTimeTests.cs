using System.Diagnostics;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

/// <summary>What the kernel says of a process's start time, read from real processes.</summary>
public sealed class ProcessStartTimeTests
{
    [Fact]
    public async Task AChildStartedAfterThisProcess_HasALaterStartTime_AndNoneOnceItHasBeenWaitedFor()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "30") { RedirectStandardInput = true })!;
        try
        {
            var own = ProcessStartTime.Read(Environment.ProcessId);
            var childStart = ProcessStartTime.Read(child.Id);

            Assert.NotNull(own);
            Assert.NotNull(childStart);
            Assert.True(childStart > own, $"the child's start time {childStart} is not after this process's {own}");
            Assert.Equal(childStart, ProcessStartTime.Read(child.Id));
        }
        finally
        {
            child.Kill();
            await child.WaitForExitAsync();
        }

        Assert.Null(ProcessStartTime.Read(child.Id));
    }
}
