namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// What a worker's command is prefixed with so that it leads a process group of its own: one
/// group signal then ends it and every grandchild that did not escape. The group stays in the
/// host's session. A session of its own (setsid) is also a scheduling group of its own wherever
/// the kernel groups tasks by session (sched_autogroup, on in Debian's kernel), and a worker
/// scheduled apart from the host on a busy machine is preempted a dozen times a call: a route's
/// worker spent 47 µs of CPU a request instead of 19, and routes ran at two thirds of the rate
/// (docs/benchmarks.md, "Routes against YARP", session 42).
/// </summary>
internal static class OwnProcessGroup
{
    private const string Perl = "/usr/bin/perl";
    private const string SetSid = "/usr/bin/setsid";
    private const string AutogroupSwitch = "/proc/sys/kernel/sched_autogroup_enabled";

    // setpgid(0, 0), then exec in the same process, so the worker keeps the pid the host knows.
    // Perl is in every Debian system (perl-base is essential); its interpreter starts in ~1 ms.
    private const string SetPgidThenExec = "setpgrp(0, 0) or die \"cannot lead a process group: $!\\n\"; exec { $ARGV[0] } @ARGV or die \"cannot run $ARGV[0]: $!\\n\"";

    /// <summary>
    /// True when workers lead sessions of their own (no Perl here) and this kernel schedules each
    /// session as a group of its own: every call then pays for it, and the host says so at start.
    /// </summary>
    public static bool ScheduledApart => IsScheduledApart(Prefix, File.Exists(AutogroupSwitch) ? File.ReadAllText(AutogroupSwitch) : null);

    /// <summary>The prefix, empty when neither way exists here (the worker then stays in the host's group).</summary>
    public static IReadOnlyList<string> Prefix { get; } = Choose(File.Exists);

    /// <summary>The prefix for a system where <paramref name="exists"/> says which programs are installed.</summary>
    internal static IReadOnlyList<string> Choose(Func<string, bool> exists) =>
        exists(Perl) ? [Perl, "-e", SetPgidThenExec, "--"]
        // Without Perl (a minimal image): a session of its own, which the kernel may schedule apart.
        : exists(SetSid) ? [SetSid]
        : [];

    /// <summary>Whether workers started with <paramref name="prefix"/> are scheduled apart, given the kernel's autogroup switch (null: no such switch).</summary>
    internal static bool IsScheduledApart(IReadOnlyList<string> prefix, string? autogroupSwitch) =>
        prefix is [SetSid] && autogroupSwitch?.Trim() == "1";
}
