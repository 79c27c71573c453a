using GrpcPlugins.Supervisor.Limits;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class PidsCgroupTests
{
    [Fact]
    public void ACgroupV2Directory_IsRefused_WithWhatToDoInstead()
    {
        // A plain directory shaped as a v2 cgroup: refused before anything is written to it.
        var directory = Directory.CreateTempSubdirectory("gpt-v2-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "cgroup.controllers"), "cpu memory pids\n");

            var error = Assert.Throws<InvalidOperationException>(() => WorkerPidsCgroup.OpenParent(directory.FullName));

            Assert.Contains("is a cgroup v2 directory", error.Message, StringComparison.Ordinal);
            Assert.Contains("the thread watchdog still holds every worker to limits.maxThreads", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("max 0\n", 0)]
    [InlineData("max 17\n", 17)]
    [InlineData("", 0)]
    public void TheRefusals_AreReadFromPidsEvents(string events, long expected)
    {
        Assert.Equal(expected, CgroupFiles.ParseCounter(events, "max"));
    }
}
