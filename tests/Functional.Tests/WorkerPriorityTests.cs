using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Workers run at the niceness the host gives them, every thread from the first one, so a busy plugin yields the CPU to its host.</summary>
public sealed class WorkerPriorityTests
{
    /// <summary>The niceness of every thread of <paramref name="pid"/>, from /proc (field 19 of each task's stat).</summary>
    private static int[] ThreadNiceness(int pid) =>
        [.. Directory.GetDirectories($"/proc/{pid}/task").Select(task =>
        {
            var stat = File.ReadAllText(Path.Combine(task, "stat"));
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
        })];

    [Fact]
    public async Task EveryThreadOfAWorker_RunsAtTheHostsWorkerNice_AndAtTheHostsOwnPriorityByDefault()
    {
        await using var niced = await TestHost.StartAsync([PluginFolders.Test("t")], o => o.WorkerNice = 7);
        await using var plain = await TestHost.StartAsync(PluginFolders.Test("t"));
        var nicedPid = (await niced.WaitForStateAsync("t", WorkerState.Ready)).Pid!.Value;
        var plainPid = (await plain.WaitForStateAsync("t", WorkerState.Ready)).Pid!.Value;
        // A call, so the worker's pool and Kestrel's threads exist too.
        (await niced.Admin.GetAsync("/plugins/t/echo/x")).EnsureSuccessStatusCode();

        var nicedThreads = ThreadNiceness(nicedPid);
        var plainThreads = ThreadNiceness(plainPid);
        var host = ThreadNiceness(Environment.ProcessId)[0];

        Assert.True(nicedThreads.Length > 5, $"only {nicedThreads.Length} threads");
        Assert.All(nicedThreads, n => Assert.Equal(host + 7, n));
        Assert.All(plainThreads, n => Assert.Equal(host, n));
    }
}
