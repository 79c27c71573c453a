using System.Text;
using GrpcPlugins.Sdk.Logging;
using Microsoft.Extensions.Logging;

namespace GrpcPlugins.Sdk.Tests;

public sealed class StderrLoggerProviderTests
{
    [Fact]
    public void AnEntry_IsOneLine_InTheConsoleLoggersLevelSpelling()
    {
        using var output = new StringWriter();
        using var provider = new StderrLoggerProvider(output);

        provider.CreateLogger("Cat").LogWarning("two{Nl}lines", Environment.NewLine);

        Assert.Equal("warn: Cat[0] two lines" + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void ABrokenStderr_DoesNotThrowIntoTheCodeThatLogs()
    {
        using var provider = new StderrLoggerProvider(new BrokenPipeWriter());

        var logged = Record.Exception(() => provider.CreateLogger("Cat").LogError("the host stopped reading"));

        Assert.Null(logged);
    }

    private sealed class BrokenPipeWriter : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value) => throw new IOException("Broken pipe");
    }
}
