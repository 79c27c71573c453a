using GrpcPlugins.Functional.Tests.Infrastructure;
using GrpcPlugins.Supervisor.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GrpcPlugins.Functional.Tests;

/// <summary>One state directory, one host: what a second host on it does to the first.</summary>
public sealed class StateDirectoryTests
{
    [Fact]
    public async Task ASecondHostOnARunningHostsStateDirectory_RefusesToStart_SayingWhoHoldsIt_AndTheFirstsWorkersRunOn()
    {
        await using var first = await TestHost.StartAsync(PluginFolders.Test("t"));
        var before = await first.WaitForStateAsync("t", WorkerState.Ready);

        // It used to take the first's running worker in the ledger for a killed host's leftover, and kill it.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync([], configure: null, root: first.Root));
        var after = first.Supervisor("t").Snapshot;

        Assert.Contains($"'{Path.Combine(first.Root, "state")}' is in use by another host (pid {Environment.ProcessId} on {Environment.MachineName}, since ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("give this one a PluginHost:StateDirectory of its own", refused.Message, StringComparison.Ordinal);
        Assert.Equal(WorkerState.Ready, after.State);
        Assert.Equal(before.Pid, after.Pid);
        Assert.Equal(0, after.Restarts);
        Assert.True(Directory.Exists($"/proc/{before.Pid}"), "the first host's worker was killed");
        (await first.Admin.PostAsync("/admin/api/plugins/t/restart", null)).EnsureSuccessStatusCode();
        await first.WaitForAsync("t", s => s.State == WorkerState.Ready && s.Pid != before.Pid, "a new worker");
    }

    [Fact]
    public async Task TheReferenceHost_StartedOnARunningHostsStateDirectory_ExitsWithCodeOne_NamingTheHolder()
    {
        await using var first = await HostProcess.StartWithPluginsAsync([PluginFolders.Test("t")]);
        using var admin = first.AdminClient();
        await HostProcess.WaitForStateAsync(admin, "t", "Ready");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => HostProcess.StartAsync(first.Root!));

        Assert.Contains("the reference host exited (1) before it listened", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"is in use by another host (pid {first.Pid} on ", refused.Message, StringComparison.Ordinal);
        await HostProcess.WaitForStateAsync(admin, "t", "Ready");
    }

    [Fact]
    public async Task AStoreFileThatIsNoDatabase_StopsTheStartSayingWhatToDo_AndIsLeftUntouched()
    {
        var root = Directory.CreateTempSubdirectory("gpt-").FullName;
        try
        {
            var store = Path.Combine(Directory.CreateDirectory(Path.Combine(root, "state")).FullName, "plugins.db");
            // What a disk fault or a stray copy leaves: not a page of SQLite in it.
            var damaged = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("not a database page ", 300)));
            await File.WriteAllBytesAsync(store, damaged);

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync([PluginFolders.Test("t")], configure: null, root: root));

            Assert.StartsWith($"The plugin store '{store}' is damaged or is not a SQLite database (SQLite Error 26: 'file is not a database'.). The host leaves it untouched", refused.Message, StringComparison.Ordinal);
            Assert.Contains($"`sqlite3 '{store}' .recover`", refused.Message, StringComparison.Ordinal);
            Assert.Equal(damaged, await File.ReadAllBytesAsync(store));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task AStateDirectoryAnAdminMadeOpen_KeepsItsMode_ButIsWarnedOf_AndTheStoreIsTheOwnersAlone()
    {
        var root = Directory.CreateTempSubdirectory("gpt-").FullName;
        try
        {
            var state = Directory.CreateDirectory(Path.Combine(root, "state")).FullName;
            const UnixFileMode Open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            File.SetUnixFileMode(state, Open); // as `mkdir` makes it under the usual umask
            var warnings = new ErrorLogCollector(Microsoft.Extensions.Logging.LogLevel.Warning);

            await using (var host = await TestHost.StartAsync([], configure: null, root: root, services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(warnings)))
            {
                Assert.Contains(warnings.Errors, w => w.Contains($"PluginHost:StateDirectory {state} (mode 755) is open to every user of the machine", StringComparison.Ordinal));
                Assert.Equal(Open, File.GetUnixFileMode(state));
                foreach (var file in Directory.GetFiles(state, "plugins.db*"))
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
                }

                Assert.Contains(Path.Combine(state, "plugins.db-wal"), Directory.GetFiles(state, "plugins.db*"));
            }
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true); // the host's disposal removes it when it started
            }
        }
    }

    [Fact]
    public async Task AStateDirectoryTheHostCreates_IsReadableByItsOwnerAlone()
    {
        await using var host = await TestHost.StartAsync([], configure: null);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(host.Root, "state")));
    }
}
