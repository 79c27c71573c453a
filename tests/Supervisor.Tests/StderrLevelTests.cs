using GrpcPlugins.Supervisor.Logs;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class StderrLevelTests
{
    [Theory]
    [InlineData("fail: Something[5001] Hook failed", LogLevel.Error)]
    [InlineData("warn: careful", LogLevel.Warning)]
    [InlineData("[ERROR] python says no", LogLevel.Error)]
    [InlineData("time=1 level=error msg=x", LogLevel.Error)]
    [InlineData("panic: runtime error", LogLevel.Critical)]
    [InlineData("Unhandled exception. System.Exception", LogLevel.Critical)]
    [InlineData("just some text", LogLevel.Information)]
    public void Level_IsRecognisedFromTheLine(string line, LogLevel expected) => Assert.Equal(expected, StderrLevel.Of(line));
}
