namespace GrpcPlugins.Supervisor.Workers;

/// <summary>What every worker of one host shares.</summary>
/// <param name="RuntimeDirectory">A private directory (mode 0700) under which each worker gets its own socket directory.</param>
/// <param name="HostAddress">The PluginHost service address given to workers, e.g. "unix:///…/host.sock".</param>
/// <param name="ProtocolVersions">The app protocol versions this host speaks.</param>
/// <param name="HostVersion">The host's product and version, told to plugins in Describe.</param>
/// <param name="MemoryCgroup">A delegated cgroup for the kernel to enforce memory limits in, or null (the RSS watchdog alone).</param>
/// <param name="Nice">The scheduling niceness every worker starts with (0 to 19): above 0, the host's threads win the CPU from a busy plugin.</param>
/// <param name="Attach">The host's TLS identity and trust for attached workers, or null when none is configured.</param>
/// <param name="AttachCallback">Where attached workers reach the PluginHost service, or null when they have no way back.</param>
/// <param name="StartLimits">Reads a starting worker's process group, and how often, to hold it to its memory and thread limits before it is Ready; null leaves it unwatched until then.</param>
/// <param name="PidsCgroup">A delegated cgroup v1 pids directory for the kernel to enforce thread limits in, or null (the thread watchdog alone).</param>
/// <param name="CpuCgroup">A delegated cgroup v1 cpu directory for the kernel to enforce CPU limits in, or null (limits.cpus not enforced).</param>
/// <param name="HostTag">What names this host's worker cgroups among those of other hosts given the same parent cgroup, the same across its restarts (from its state directory); empty names none.</param>
/// <param name="WithheldEnvironment">Prefixes (compared ignoring case) of the host's environment variables no worker inherits: the host's own configuration, and what its admin keeps from plugins.</param>
internal sealed record LaunchSettings(string RuntimeDirectory, string HostAddress, IReadOnlyList<int> ProtocolVersions, string HostVersion, Limits.MemoryCgroup? MemoryCgroup = null, int Nice = 0, Attach.AttachCredentials? Attach = null, Uri? AttachCallback = null, StartLimitChecks? StartLimits = null, Limits.V1Cgroup? PidsCgroup = null, Limits.V1Cgroup? CpuCgroup = null, IReadOnlyList<string>? WithheldEnvironment = null, string HostTag = "");

/// <summary>The shared pass over /proc a starting worker's limits are read from, and the time between readings.</summary>
internal sealed record StartLimitChecks(Limits.ProcessGroupSampler Groups, TimeSpan Interval);
