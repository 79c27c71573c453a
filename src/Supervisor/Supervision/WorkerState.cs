namespace GrpcPlugins.Supervisor.Supervision;

/// <summary>Where one plugin's worker is in its life.</summary>
internal enum WorkerState
{
    /// <summary>Not running and not meant to be (disabled, or never started).</summary>
    Stopped,

    /// <summary>Spawned, waiting for handshake, health and Describe.</summary>
    Starting,

    /// <summary>Serving calls.</summary>
    Ready,

    /// <summary>Running, but failing health probes; restarted once past the threshold.</summary>
    Unhealthy,

    /// <summary>Being asked to exit.</summary>
    Stopping,

    /// <summary>Ended unexpectedly or failed to start; a restart decision follows.</summary>
    Crashed,

    /// <summary>Waiting out the backoff before the next start.</summary>
    BackingOff,

    /// <summary>Too many restarts in the window: not started again until an admin re-enables it.</summary>
    CrashLooping,

    /// <summary>
    /// Stopped by a limit that a restart cannot cure (its data directory over its limit):
    /// not started again until an admin has made room and restarts or re-enables it.
    /// </summary>
    Halted,

    /// <summary>Ended and not restarted by its policy (temporary, or transient after a clean exit).</summary>
    Exited,
}
