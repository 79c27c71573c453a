namespace GrpcPlugins.Host.Settings;

/// <summary>The result of a settings write: committed, or why not, with every field error.</summary>
internal abstract record SettingsWriteResult
{
    private SettingsWriteResult()
    {
    }

    /// <summary>Committed durably with this revision.</summary>
    public sealed record Committed(long Revision) : SettingsWriteResult;

    /// <summary>The settings do not match the plugin's schema.</summary>
    public sealed record Invalid(IReadOnlyList<(string Path, string Message)> Errors) : SettingsWriteResult;

    /// <summary>The running plugin refused them in Configure; nothing was committed.</summary>
    public sealed record Rejected(IReadOnlyList<(string Path, string Message)> Errors) : SettingsWriteResult;

    /// <summary>The running plugin did not answer Configure (it hung, crashed or failed); nothing was committed.</summary>
    public sealed record NotAnswered(Calls.CallFailure Failure) : SettingsWriteResult;

    /// <summary>The stored revision is no longer the one the writer read; nothing was offered or committed.</summary>
    public sealed record Conflict(long Expected, long Current) : SettingsWriteResult;

    /// <summary>Over a limit of <see cref="SettingsLimits"/>; nothing was offered or committed.</summary>
    public sealed record OverLimit(SettingsLimitProblem Problem) : SettingsWriteResult;

    /// <summary>The plugin is unknown or was refused at load.</summary>
    public sealed record UnknownPlugin : SettingsWriteResult;
}
