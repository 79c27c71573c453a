namespace GrpcPlugins.Supervisor.Policies;

/// <summary>When a worker that ended is started again, after OTP's child restart types.</summary>
internal enum RestartMode
{
    /// <summary>Always restarted, whatever the exit (the default).</summary>
    Permanent,

    /// <summary>Restarted only after an abnormal end: a non-zero exit, a signal, a failed health check or a limit.</summary>
    Transient,

    /// <summary>Never restarted: a one-shot plugin.</summary>
    Temporary,
}
