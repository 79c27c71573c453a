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

/// <summary>What a step checked: its name (start, hook, route…) and, for a step taken once per thing, which (a hook point, a route).</summary>
/// <param name="Aside">The target is said in brackets after the step ("host log (Warning, …)") rather than as its object.</param>
internal sealed record CheckSubject(string Step, string? Target = null, bool Aside = false)
{
    public static implicit operator CheckSubject(string step) => new(step);

    public override string ToString() => Target is null ? Step : Aside ? $"{Step} ({Target})" : $"{Step} {Target}";
}

/// <summary>One step of a plugin's check: what was checked, and what was seen or what to fix.</summary>
internal sealed record CheckResult(CheckVerdict Verdict, CheckSubject Subject, string Detail)
{
    public static CheckResult Pass(CheckSubject subject, string detail) => new(CheckVerdict.Passed, subject, detail);

    public static CheckResult Fail(CheckSubject subject, string detail) => new(CheckVerdict.Failed, subject, detail);

    public static CheckResult Warn(CheckSubject subject, string detail) => new(CheckVerdict.Warned, subject, detail);

    public static CheckResult Skip(CheckSubject subject, string detail) => new(CheckVerdict.Skipped, subject, detail);

    /// <summary>One line of the report: "  ok    subject: detail".</summary>
    public override string ToString() => $"  {Verdict switch
    {
        CheckVerdict.Passed => "ok  ",
        CheckVerdict.Failed => "FAIL",
        CheckVerdict.Warned => "warn",
        _ => "skip",
    }}  {Subject}: {Detail}";
}
