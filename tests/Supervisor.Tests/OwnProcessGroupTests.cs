using System.Diagnostics;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class OwnProcessGroupTests
{
    [Fact]
    public void WithPerl_TheWorkerIsPrefixedByPerl_AndIsNotScheduledApart()
    {
        var prefix = OwnProcessGroup.Choose(_ => true);

        Assert.Equal("/usr/bin/perl", prefix[0]);
        Assert.False(OwnProcessGroup.IsScheduledApart(prefix, "1\n"));
    }

    [Fact]
    public void WithoutPerl_SetsidIsTheFallback_AndIsScheduledApartOnlyWhereTheKernelGroupsSessions()
    {
        var prefix = OwnProcessGroup.Choose(path => path == "/usr/bin/setsid");

        Assert.Equal(["/usr/bin/setsid"], prefix);
        Assert.True(OwnProcessGroup.IsScheduledApart(prefix, "1\n"));
        Assert.False(OwnProcessGroup.IsScheduledApart(prefix, "0\n"));
        Assert.False(OwnProcessGroup.IsScheduledApart(prefix, null));
    }

    [Fact]
    public void WithNeither_TheWorkerRunsUnprefixed()
    {
        Assert.Empty(OwnProcessGroup.Choose(_ => false));
    }

    // Both real prefixes, run: the program keeps the pid it was started with (exec, so the host's
    // pid is the worker's), leads a process group of its own, and only Perl's keeps the test's session.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EitherPrefix_ExecsTheProgramAsTheLeaderOfItsOwnGroup(bool perl)
    {
        var prefix = OwnProcessGroup.Choose(path => perl || path != "/usr/bin/perl");
        var info = new ProcessStartInfo(prefix[0]);
        foreach (var argument in prefix.Skip(1).Concat(["/bin/sleep", "30"]))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        try
        {
            // Read once the prefix has exec'd the program, not while it is still Perl or setsid.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (File.ReadAllText($"/proc/{process.Id}/comm").Trim() != "sleep")
            {
                await Task.Delay(10, timeout.Token);
            }

            var stat = ProcStatLine.Read(process.Id).Span;
            var ownStat = ProcStatLine.Read(Environment.ProcessId).Span;
            Assert.Equal(process.Id.ToString(), ProcStatLine.Field(stat, 5).ToString());
            Assert.Equal(perl ? ProcStatLine.Field(ownStat, 6).ToString() : process.Id.ToString(), ProcStatLine.Field(stat, 6).ToString());
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }
}
