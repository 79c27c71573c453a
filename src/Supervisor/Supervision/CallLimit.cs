namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>
/// One plugin's calls in flight, held to its limit. A plugin that stops answering
/// would otherwise gather every caller the host has, each holding a request, a
/// stream and its buffers until its deadline. It also tells when the plugin first
/// refuses a call and when it has room again, so that each such episode is logged
/// twice, not once a call.
/// </summary>
internal sealed class CallLimit(int max)
{
    private int _inFlight;
    private int _saturated;
    private long _refused;
    private long _refusedBeforeEpisode;

    /// <summary>Calls allowed in flight at once.</summary>
    public int Max => max;

    /// <summary>Calls in flight now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>True from a refusal until a quarter of the places are free again.</summary>
    public bool Saturated => Volatile.Read(ref _saturated) != 0;

    /// <summary>Calls refused since the plugin's supervisor was made.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Takes a place for one call, or refuses it; <paramref name="episodeBegan"/> says this refusal was the first since the plugin last had room.</summary>
    public bool TryEnter(out bool episodeBegan)
    {
        if (Interlocked.Increment(ref _inFlight) <= max)
        {
            episodeBegan = false;
            return true;
        }

        Interlocked.Decrement(ref _inFlight);
        var refused = Interlocked.Increment(ref _refused);
        episodeBegan = Interlocked.Exchange(ref _saturated, 1) == 0;
        if (episodeBegan)
        {
            Interlocked.Exchange(ref _refusedBeforeEpisode, refused - 1);
        }

        return false;
    }

    /// <summary>
    /// Gives a call's place back; true when this ended an episode of refusals, with how many
    /// calls it refused. An episode ends only once a quarter of the places are free again,
    /// so a plugin that stays at its limit does not log a pair of lines for every call.
    /// </summary>
    public bool Exit(out long refusedInEpisode)
    {
        var inFlight = Interlocked.Decrement(ref _inFlight);
        if (Volatile.Read(ref _saturated) != 0 && inFlight <= max - Math.Max(1, max / 4) && Interlocked.Exchange(ref _saturated, 0) == 1)
        {
            refusedInEpisode = Refused - Interlocked.Read(ref _refusedBeforeEpisode);
            return true;
        }

        refusedInEpisode = 0;
        return false;
    }
}
