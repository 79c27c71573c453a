using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class StartFailureTests
{
    [Fact]
    public void ToString_ADotnetCrashReport_QuotesTheExceptionNotItsFrames()
    {
        string[] stderr =
        [
            "Unhandled exception. System.InvalidOperationException: cannot open the database",
            .. Enumerable.Range(0, 8).Select(i => $"   at Plugin.Frame{i}() in /src/Plugin.cs:line {i}"),
            "--- End of stack trace from previous location ---",
            "   at Program.<Main>(String[] args)",
        ];

        var text = new StartFailure(StartFailureKind.ExitedBeforeHandshake, "plugin 'p' exited before its handshake.", 134, stderr).ToString();

        Assert.Contains("InvalidOperationException: cannot open the database", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Frame", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_APythonTraceback_QuotesTheErrorLine()
    {
        string[] stderr =
        [
            "Traceback (most recent call last):",
            .. Enumerable.Range(0, 6).SelectMany(i => new[] { $"  File \"/plugin/m{i}.py\", line {i}, in f{i}", $"    f{i + 1}()" }),
            "ModuleNotFoundError: No module named 'grpc'",
        ];

        var text = new StartFailure(StartFailureKind.ExitedBeforeHandshake, "plugin 'p' exited before its handshake.", 1, stderr).ToString();

        Assert.Contains("ModuleNotFoundError: No module named 'grpc'", text, StringComparison.Ordinal);
        Assert.Contains("Traceback", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_OnlyFrames_StillQuotesTheLastLines()
    {
        string[] stderr = ["   at A()", "   at B()"];

        var text = new StartFailure(StartFailureKind.ExitedBeforeHandshake, "exited.", 1, stderr).ToString();

        Assert.EndsWith("Last stderr lines:    at A() |    at B()", text, StringComparison.Ordinal);
    }
}
