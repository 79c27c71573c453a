namespace GrpcPlugins.Supervisor.Limits;

/// <summary>What a process group holds: the resident memory and the threads of all its processes (a process is at least one thread).</summary>
/// <param name="RssBytes">The summed resident set size.</param>
/// <param name="Threads">The summed threads, the kernel's tasks: what a plugin that leaks threads or forks without end uses up, for every process of the machine's user.</param>
internal readonly record struct GroupUsage(long RssBytes, int Threads);
