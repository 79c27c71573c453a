namespace GrpcPlugins.Supervisor.Processes;

/// <summary>How to start one plugin's worker process.</summary>
/// <param name="PluginId">The plugin id, passed to the worker and used in every log line.</param>
/// <param name="FileName">The executable to run.</param>
/// <param name="Arguments">Its arguments.</param>
/// <param name="WorkingDirectory">Its working directory, normally the plugin's folder.</param>
/// <param name="Environment">Extra environment variables (the handshake variables are added by the launcher).</param>
/// <param name="Limits">Time and memory limits.</param>
internal sealed record WorkerSpec(
    string PluginId,
    string FileName,
    IReadOnlyList<string> Arguments,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment,
    WorkerLimits Limits)
{
    /// <summary>
    /// Where an attached worker serves (an https address); null for a worker the host spawns.
    /// An attached worker has no file name, arguments or environment: whoever runs it sets them.
    /// </summary>
    public Uri? AttachAddress { get; init; }

    /// <summary>
    /// A file the command runs that is not the command itself (the assembly PluginWorker loads
    /// under <c>dotnet</c>), checked before the spawn: run without it, <c>dotnet</c> prints its
    /// help on stdout, which would be reported as a garbled handshake instead of the cause.
    /// </summary>
    public RequiredFile? Requires { get; init; }
}

/// <summary>A file a worker's start needs, and what the admin does when it is missing.</summary>
internal sealed record RequiredFile(string Path, string Fix);

/// <summary>Limits that apply to one worker.</summary>
/// <param name="StartTimeout">From spawn to handshake and first healthy probe.</param>
/// <param name="ShutdownGrace">From the Shutdown request to the kill of the process group.</param>
/// <param name="MemoryLimitBytes">The worker's memory limit, whole process tree.</param>
/// <param name="MaxConcurrentCalls">Calls (hooks and routes together) in flight at once; more are refused without a call.</param>
/// <param name="Data">The plugin's own data directory and what it may hold, or null when none is watched.</param>
/// <param name="MaxThreads">The threads its whole process group may run (processes count theirs); 0 for no limit.</param>
/// <param name="Cpus">The cores' worth of CPU time it may use (0.5: half a core), enforced in its cpu cgroup; 0 for no limit.</param>
internal sealed record WorkerLimits(TimeSpan StartTimeout, TimeSpan ShutdownGrace, long MemoryLimitBytes, int MaxConcurrentCalls = int.MaxValue, DataLimit? Data = null, int MaxThreads = 0, double Cpus = 0);

/// <summary>A plugin's data directory with the bytes it may hold; 0 watches and shows its size without a limit.</summary>
internal sealed record DataLimit(string Directory, long LimitBytes);
