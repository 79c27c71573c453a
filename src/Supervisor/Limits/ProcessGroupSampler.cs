namespace GrpcPlugins.Supervisor.Limits;

/// <summary>
/// One pass over /proc shared by every worker's memory and thread watchdogs. A pass reads
/// every process on the machine, so a pass per worker per interval grew with
/// workers × processes (100 workers every 250 ms made 400 passes a second).
/// A pass younger than the maximum age answers every watchdog.
/// </summary>
internal sealed class ProcessGroupSampler
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxAge;
    private readonly Func<IReadOnlyDictionary<int, GroupUsage>> _scan;
    private readonly Lock _lock = new();
    private IReadOnlyDictionary<int, GroupUsage> _groups = new Dictionary<int, GroupUsage>();
    private long? _scannedAt;

    /// <param name="time">The clock that ages a pass.</param>
    /// <param name="maxAge">How old a pass may be and still answer; it adds to the watchdog's reaction time.</param>
    /// <param name="scan">One pass: what every process group uses (a test gives its own).</param>
    public ProcessGroupSampler(TimeProvider time, TimeSpan maxAge, Func<IReadOnlyDictionary<int, GroupUsage>>? scan = null)
    {
        _time = time;
        _maxAge = maxAge;
        _scan = scan ?? (() => ProcessGroups.ReadAllGroups(Helpers));
    }

    /// <summary>The workers whose escaped helpers each pass counts in their group: a worker's launch registers it.</summary>
    public HelperOwners Helpers { get; } = new();

    /// <summary>How many passes over /proc were made (what the tests check).</summary>
    public long Passes { get; private set; }

    /// <summary>What process group <paramref name="groupId"/> uses, from a pass no older than the maximum age.</summary>
    public GroupUsage Read(int groupId)
    {
        lock (_lock)
        {
            if (_scannedAt is not { } at || _time.GetElapsedTime(at) >= _maxAge)
            {
                _groups = _scan();
                _scannedAt = _time.GetTimestamp();
                Passes++;
            }

            return _groups.GetValueOrDefault(groupId);
        }
    }
}
