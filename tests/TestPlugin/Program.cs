using TestPlugin;

// Modes that break the handshake never reach the Sdk; the others run a real Sdk plugin.
var mode = args.Length > 0 ? args[0] : "normal";
var id = Environment.GetEnvironmentVariable("PLUGIN_ID") ?? "test";
switch (mode)
{
    case "crash-at-start":
        await Console.Error.WriteLineAsync("fail: cannot open my database (crash-at-start mode)");
        return 3;
    case "no-handshake":
        await Task.Delay(Timeout.Infinite);
        return 0;
    case "garbage-handshake":
        Console.WriteLine("Starting up... hello there!");
        await Task.Delay(Timeout.Infinite);
        return 0;
    case "wrong-protocol":
        Console.WriteLine($"1|99|unix|{Environment.GetEnvironmentVariable("PLUGIN_SOCKET_DIR")}/plugin.sock|grpc");
        await Task.Delay(Timeout.Infinite);
        return 0;
    case "exit-before-handshake-slowly":
        await Task.Delay(300);
        await Console.Error.WriteLineAsync("error: giving up");
        return 7;
    case "flood-stderr":
        Modes.FloodStderr(100L * 1024 * 1024);
        break;
    case "slow-start":
        await Task.Delay(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
        break;
    case "spawn-grandchildren":
        Modes.SpawnGrandchildren(3);
        break;
    case "spawn-escapee":
        // A helper daemon as native drivers start them: a session of its own, out of the worker's group, holding its stdout and stderr.
        Modes.SpawnEscapee(clearEnvironment: false);
        break;
    case "spawn-hogging-escapee":
        // A helper daemon in a session of its own that takes memory without end (1 GiB at most): out of the worker's group.
        Modes.SpawnEscapee(clearEnvironment: false, "hog-alone");
        break;
    case "hog-alone":
        // What that helper runs: no plugin, memory only, from 4 s on (its worker Ready, and seen with it, by then).
        await Task.Delay(4000);
        Modes.HogMemory(1024L * 1024 * 1024);
        await Task.Delay(Timeout.Infinite);
        return 0;
    case "spawn-bare-escapee":
        // The same, with its environment cleared: only a cgroup still holds it.
        Modes.SpawnEscapee(clearEnvironment: true);
        break;
    case "trace":
        System.Diagnostics.ActivitySource.AddActivityListener(new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == GrpcPlugins.Sdk.PluginRunner.ActivitySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        });
        break;
    case "memory-hog":
        Modes.HogMemory();
        break;
    case "hog-while-starting":
        // Loads more than its limit before it serves (a model, a cache), and never gets to serve; 1 GiB at most.
        Modes.HogMemory(1024L * 1024 * 1024);
        await Task.Delay(Timeout.Infinite);
        return 0;
    case "leak-threads-while-starting":
        Modes.Leak(() => new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = true }.Start(), afterMs: 500);
        await Task.Delay(Timeout.Infinite);
        return 0;
    case "spawn-often":
        // 64 MiB of its own, then a short-lived helper after another, as a connector shelling out does.
        Modes.HogMemory(64L * 1024 * 1024);
        Modes.SpawnOften();
        break;
    case "leak-threads":
        // A native driver's pool that never ends a thread: one more every 10 ms.
        // From 3 s on: well after it is Ready, so the supervisor's watchdog is the one that sees it.
        Modes.Leak(() => new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = true }.Start(), afterMs: 3000);
        break;
    case "leak-processes":
        // A plugin forking helpers it never reaps, each in its process group.
        // From the given milliseconds (3 s unless said): a test of the start's hand-over leaks sooner.
        Modes.Leak(() => System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "1000") { UseShellExecute = false })!.Dispose(), afterMs: args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3000);
        break;
    case "spin":
        // A plugin stuck in a loop on two threads: every core of this machine.
        for (var i = 0; i < 2; i++)
        {
            new Thread(() =>
            {
                while (true)
                {
                    Thread.SpinWait(1000);
                }
            }) { IsBackground = true }.Start();
        }

        break;
    case "fork-fast":
        // Helpers as fast as it can start them, from 3 s on: faster than any pass over /proc.
        Modes.Leak(() => System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "1000") { UseShellExecute = false })!.Dispose(), afterMs: 3000, everyMs: 0);
        break;
    case "ignore-shutdown":
        Modes.IgnoreShutdown();
        break;
    case "die-after":
        // Starts as any plugin does, then dies: a fault its start does not show.
        _ = Task.Delay(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)).ContinueWith(_ => Environment.Exit(5), TaskScheduler.Default);
        break;
    case "ignore-stdin":
        Modes.IgnoreStdin();
        break;
    case "write-beside":
        // A log kept in its own folder (its working directory) instead of its data directory.
        await File.AppendAllTextAsync("started.log", $"started {Environment.ProcessId}\n");
        break;
}

return await GrpcPlugins.Sdk.PluginRunner.RunAsync(new ModePlugin(id, mode, args), args);
