using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Processes;
using GrpcPlugins.Supervisor.Supervision;

namespace GrpcPlugins.Functional.Tests;

/// <summary>Workers run at the niceness the host gives them, every thread from the first one, so a busy plugin yields the CPU to its host; and in the host's scheduling group, as their own process groups' leaders.</summary>
public sealed class WorkerPriorityTests
{
    /// <summary>
    /// The niceness of every thread of <paramref name="pid"/>, from /proc (field 19 of each task's stat);
    /// a thread that ended between the listing and its read (a pool trimming itself) is left out.
    /// </summary>
    private static int[] ThreadNiceness(int pid) =>
        [.. Directory.GetDirectories($"/proc/{pid}/task")
            .Select(task => Niceness(int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture)))
            .OfType<int>()];

    /// <summary>Field 19 of a task's stat (/proc/TID/stat serves a thread as /proc/PID/stat a process); null once it is gone.</summary>
    private static int? Niceness(int tid) =>
        int.TryParse(ProcStatLine.Field(ProcStatLine.Read(tid).Span, 19), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var nice) ? nice : null;

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
        var host = Niceness(Environment.ProcessId)!.Value;

        Assert.True(nicedThreads.Length > 5, $"only {nicedThreads.Length} threads");
        Assert.All(nicedThreads, n => Assert.Equal(host + 7, n));
        Assert.All(plainThreads, n => Assert.Equal(host, n));
    }

    [Fact]
    public async Task AWorker_LeadsAProcessGroupOfItsOwn_InTheHostsSession_SoTheKernelSchedulesItBesideTheHost()
    {
        await using var host = await TestHost.StartAsync(PluginFolders.Test("t"));
        var pid = (await host.WaitForStateAsync("t", WorkerState.Ready)).Pid!.Value;
        var worker = ProcStatLine.Read(pid);
        var own = ProcStatLine.Read(Environment.ProcessId);

        // Fields 5 and 6: its process group (what the host signals) and its session.
        Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), ProcStatLine.Field(worker.Span, 5).ToString());
        Assert.Equal(ProcStatLine.Field(own.Span, 6).ToString(), ProcStatLine.Field(worker.Span, 6).ToString());
        // Where the kernel groups tasks by session for scheduling, the worker is in the host's group:
        // one of its own cost every call a dozen preemptions on a busy machine.
        if (File.Exists("/proc/self/autogroup"))
        {
            Assert.Equal(File.ReadAllText("/proc/self/autogroup"), File.ReadAllText($"/proc/{pid}/autogroup"));
        }
    }
}
