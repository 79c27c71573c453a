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
        var info = new ProcessStartInfo(prefix[0]) { RedirectStandardOutput = true };
        foreach (var argument in prefix.Skip(1).Concat(["/bin/cat", "/proc/self/stat"]))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stat = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var (pid, group, session) = Ids(stat);
        Assert.Equal(process.Id, pid);
        Assert.Equal(pid, group);
        Assert.Equal(perl ? Ids(File.ReadAllText("/proc/self/stat")).Session : pid, session);
    }

    /// <summary>Pid, process group and session from a /proc/PID/stat line.</summary>
    private static (int Pid, int Group, int Session) Ids(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(stat[..stat.IndexOf(' ')]), int.Parse(fields[2]), int.Parse(fields[3]));
    }
}
