namespace GrpcPlugins.Host.Registry;

/// <summary>
/// What changed in one plugin's folder since its last reload on change, and which of its files
/// the plugin writes itself. A file that changes while the plugin starts (its first seconds after
/// a start or reload), in <see cref="EchoesToIgnore"/> reloads in a row, is the plugin's own
/// output (a log, a cache), not a build: it is ignored from then on, or each start would reload
/// the plugin again, for ever. A file an author edits comes at their pace, not with each start,
/// and keeps reloading the plugin. Not thread-safe: its owner holds a lock around each use.
/// </summary>
internal sealed class FolderChangeSet
{
    /// <summary>Reloads in a row in which a file changed as the plugin started, before it counts as the plugin's own.</summary>
    public const int EchoesToIgnore = 2;

    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _echoed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _echoesInARow = new(StringComparer.Ordinal);

    /// <summary>When the first change since the last reload came (a <see cref="TimeProvider"/> timestamp), or null when there is none.</summary>
    public long? FirstChange { get; private set; }

    /// <summary>The files found to be the plugin's own, relative to its folder, sorted.</summary>
    public IReadOnlyList<string> Ignored => [.. _ignored.Order(StringComparer.Ordinal)];

    /// <summary>
    /// Notes a change of <paramref name="path"/> (relative to the folder); <paramref name="asItStarted"/>
    /// when it came while the plugin started. False when the file is one the plugin writes itself.
    /// </summary>
    public bool Note(string path, bool asItStarted, long timestamp)
    {
        if (_ignored.Contains(path))
        {
            return false;
        }

        _pending.Add(path);
        if (asItStarted)
        {
            _echoed.Add(path);
        }

        FirstChange ??= timestamp;
        return true;
    }

    /// <summary>Takes the changes noted since the last reload: whether they call for one, and the files found to be the plugin's own in them.</summary>
    public FolderChanges Take()
    {
        var own = new List<string>();
        foreach (var path in _pending)
        {
            if (!_echoed.Contains(path))
            {
                _echoesInARow.Remove(path);
                continue;
            }

            var inARow = _echoesInARow[path] = _echoesInARow.GetValueOrDefault(path) + 1;
            if (inARow >= EchoesToIgnore)
            {
                _ignored.Add(path);
                _echoesInARow.Remove(path);
                own.Add(path);
            }
        }

        var changed = _pending.Except(own).Order(StringComparer.Ordinal).ToList();
        _pending.Clear();
        _echoed.Clear();
        FirstChange = null;
        own.Sort(StringComparer.Ordinal);
        return new FolderChanges(changed, own);
    }
}

/// <summary>
/// The changes a reload on change answers: <paramref name="Changed"/> (relative paths; none means
/// no reload) and <paramref name="FoundToBeThePlugins"/>, files ignored from now on.
/// </summary>
internal sealed record FolderChanges(IReadOnlyList<string> Changed, IReadOnlyList<string> FoundToBeThePlugins);
