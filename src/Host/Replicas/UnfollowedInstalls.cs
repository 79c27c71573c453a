namespace GrpcPlugins.Host.Replicas;

/// <summary>
/// What this replica could not follow of the other replicas' installs and uninstalls, while it
/// cannot: the replicas then run different code, which the admin page, <c>/admin/api/store</c> and
/// <c>/healthz</c> say (a plugin this replica never ran has no row of its own to show it on).
/// </summary>
internal sealed class UnfollowedInstalls
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, UnfollowedInstall> _current = new(StringComparer.Ordinal);

    /// <summary>The refusals standing now, oldest first.</summary>
    public IReadOnlyList<UnfollowedInstall> Current
    {
        get
        {
            lock (_gate)
            {
                return [.. _current.Values.OrderBy(u => u.Since).ThenBy(u => u.PluginId, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>
    /// Notes that following <paramref name="pluginId"/> was refused, and returns how many tries in a
    /// row have met this same <paramref name="problem"/> (1: a new refusal, to report); the time
    /// stays the first of them.
    /// </summary>
    public int Refused(string pluginId, string problem, DateTimeOffset at)
    {
        lock (_gate)
        {
            var now = _current.TryGetValue(pluginId, out var standing) && standing.Problem == problem
                ? standing with { Tries = standing.Tries + 1 }
                : new UnfollowedInstall(pluginId, at, problem, 1);
            _current[pluginId] = now;
            return now.Tries;
        }
    }

    /// <summary>The plugin is in step with the other replicas again.</summary>
    public void Followed(string pluginId)
    {
        lock (_gate)
        {
            _current.Remove(pluginId);
        }
    }
}

/// <summary>An install or uninstall made on another replica that this one could not follow.</summary>
/// <param name="PluginId">The plugin.</param>
/// <param name="Since">When this replica first met the refusal it meets now.</param>
/// <param name="Problem">Why, and what to mend on this replica.</param>
/// <param name="Tries">How many tries in a row met it (it tries again by itself, <see cref="FollowRetries"/>).</param>
internal sealed record UnfollowedInstall(string PluginId, DateTimeOffset Since, string Problem, int Tries);
