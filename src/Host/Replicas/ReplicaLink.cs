namespace GrpcPlugins.Host.Replicas;

/// <summary>Whether this replica hears the others' changes now, for the health check and the admin.</summary>
internal sealed class ReplicaLink
{
    private volatile State _state = new(false, "not connected yet", null);

    public bool Listening => _state.Listening;

    public string Detail => _state.Detail;

    /// <summary>When the link was lost; null while listening.</summary>
    public DateTimeOffset? LostAt => _state.LostAt;

    /// <summary>How many times the link was lost since the host started.</summary>
    public int Losses { get; private set; }

    public void Up() => _state = new State(true, "listening", null);

    public void Down(string why, DateTimeOffset at)
    {
        if (_state.Listening)
        {
            Losses++;
        }

        _state = new State(false, why, _state.LostAt ?? at);
    }

    private sealed record State(bool Listening, string Detail, DateTimeOffset? LostAt);
}
