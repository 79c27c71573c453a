namespace GrpcPlugins.BundleTool.Checking;

/// <summary>How one step of a plugin's check went.</summary>
internal enum CheckVerdict
{
    /// <summary>The plugin did what the protocol asks.</summary>
    Passed,

    /// <summary>It did not: the plugin would fail or misbehave in a host.</summary>
    Failed,

    /// <summary>It works, but a host's admin would see a warning about it.</summary>
    Warned,

    /// <summary>Not checked, and why (a route that needs parameters or a body).</summary>
    Skipped,
}

/// <summary>One step of a plugin's check: what was checked, and what was seen or what to fix.</summary>
internal sealed record CheckResult(CheckVerdict Verdict, string Subject, string Detail)
{
    public static CheckResult Pass(string subject, string detail) => new(CheckVerdict.Passed, subject, detail);

    public static CheckResult Fail(string subject, string detail) => new(CheckVerdict.Failed, subject, detail);

    public static CheckResult Warn(string subject, string detail) => new(CheckVerdict.Warned, subject, detail);

    public static CheckResult Skip(string subject, string detail) => new(CheckVerdict.Skipped, subject, detail);

    /// <summary>One line of the report: "  ok    subject: detail".</summary>
    public override string ToString() => $"  {Verdict switch
    {
        CheckVerdict.Passed => "ok  ",
        CheckVerdict.Failed => "FAIL",
        CheckVerdict.Warned => "warn",
        _ => "skip",
    }}  {Subject}: {Detail}";
}
