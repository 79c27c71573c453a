using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// Which worker each escaped helper belongs to: a process a worker started that left its process
/// group (a session of its own, as native drivers' agents make), found by the worker's token in
/// its environment, as <see cref="EscapedHelpers"/> finds them at the worker's end. Counted in
/// its worker's group, or a plugin held to a memory or thread limit by the watchdog alone (no
/// cgroup given to the host) could do its work in a daemon and run past both.
/// </summary>
/// <remarks>
/// A process's environment cannot change after its start, so each is read once and its owner
/// kept by pid and start time. One found to hold no token is read again only when a worker
/// registered since started before it: a process older than a worker cannot hold its token, so
/// a worker's start does not make the next pass read every process's environment again.
/// </remarks>
internal sealed class HelperOwners
{
    private readonly Func<int, byte[]?> _readEnvironment;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Token> _tokens = [];
    private Dictionary<(int Pid, long Started), Owner> _known = [];
    private int _generation;

    /// <param name="readEnvironment">A process's environment block, or null when it cannot be read (a test gives its own).</param>
    public HelperOwners(Func<int, byte[]?>? readEnvironment = null) => _readEnvironment = readEnvironment ?? ProcessEnvironment.Read;

    /// <summary>
    /// Counts the processes holding <paramref name="variable"/>=<paramref name="value"/> outside
    /// any worker's group in <paramref name="group"/>'s, until the returned registration is disposed.
    /// </summary>
    public IDisposable Follow(int group, string variable, string value)
    {
        lock (_lock)
        {
            _generation++;
            _tokens[group] = new Token(ProcessEnvironment.Entry(variable, value), _generation);
        }

        return new Registration(this, group);
    }

    /// <summary>The processes, each helper moved into its worker's group; the others as they are.</summary>
    public IReadOnlyCollection<ProcessStat> Attribute(IReadOnlyCollection<ProcessStat> processes)
    {
        lock (_lock)
        {
            if (_tokens.Count == 0)
            {
                _known.Clear();
                return processes;
            }

            // When each registered worker started: what a process's age is weighed against.
            var started = new Dictionary<int, long>(_tokens.Count);
            foreach (var process in processes)
            {
                if (process.Pid == process.Group && _tokens.ContainsKey(process.Group))
                {
                    started[process.Group] = process.StartTicks;
                }
            }

            var seen = new Dictionary<(int, long), Owner>(_known.Count);
            var attributed = new List<ProcessStat>(processes.Count);
            foreach (var process in processes)
            {
                var owner = _tokens.ContainsKey(process.Group) || process.Pid == Environment.ProcessId ? 0 : OwnerOf(process, started, seen);
                attributed.Add(owner != 0 ? process with { Group = owner, Helper = true } : process);
            }

            // What is gone is forgotten: a pid used again is another process, with its own start time.
            _known = seen;
            return attributed;
        }
    }

    /// <summary>The registered worker group <paramref name="process"/> is a helper of; 0 for none.</summary>
    private int OwnerOf(ProcessStat process, Dictionary<int, long> started, Dictionary<(int, long), Owner> seen)
    {
        var key = (process.Pid, process.StartTicks);
        if (!_known.TryGetValue(key, out var owner) || (owner.Token == 0 && owner.CheckedAt != _generation && MayHoldANewerToken(process, owner, started)))
        {
            owner = Find(process.Pid);
        }

        seen[key] = owner with { CheckedAt = _generation };
        // A token whose worker has ended (its group's pid perhaps another worker's now) is no one's.
        return owner.Token != 0 && _tokens.TryGetValue(owner.Group, out var token) && token.Generation == owner.Token ? owner.Group : 0;
    }

    // Found with no token before a worker registered that started no later than it.
    private bool MayHoldANewerToken(ProcessStat process, Owner owner, Dictionary<int, long> started)
    {
        foreach (var (group, token) in _tokens)
        {
            if (token.Generation > owner.CheckedAt && started.TryGetValue(group, out var workerStarted) && workerStarted <= process.StartTicks)
            {
                return true;
            }
        }

        return false;
    }

    private Owner Find(int pid)
    {
        if (_readEnvironment(pid) is { } environment)
        {
            foreach (var (group, token) in _tokens)
            {
                if (ProcessEnvironment.Holds(environment, token.Entry))
                {
                    return new Owner(group, token.Generation, _generation);
                }
            }
        }

        return new Owner(0, 0, _generation);
    }

    private void Forget(int group)
    {
        lock (_lock)
        {
            _tokens.Remove(group);
        }
    }

    /// <summary>
    /// The worker group a process holds the token of, and that token's registration (0: none),
    /// as of the registrations at <paramref name="CheckedAt"/>.
    /// </summary>
    private readonly record struct Owner(int Group, int Token, int CheckedAt);

    /// <summary>A worker's token as its environment holds it, and the registration that gave it.</summary>
    private readonly record struct Token(byte[] Entry, int Generation);

    private sealed class Registration(HelperOwners owners, int group) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owners.Forget(group);
            }
        }
    }
}
