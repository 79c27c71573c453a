using System.Text;
using GrpcPlugins.Supervisor.Processes;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class BoundedLineTargetTests
{
    [Fact]
    public async Task Lines_AreSplitOnNewlines_WithCarriageReturnsDropped()
    {
        var lines = new List<string>();
        var target = new BoundedLineTarget((line, _) => lines.Add(line));

        await target.CopyFromAsync(new MemoryStream(Encoding.UTF8.GetBytes("one\r\ntwo\nthree")));

        Assert.Equal(["one", "two", "three"], lines);
    }

    [Fact]
    public async Task EndlessLine_IsCutAtTheBound_AndTheRestDiscarded()
    {
        var lines = new List<(string Line, bool Cut)>();
        var target = new BoundedLineTarget((line, cut) => lines.Add((line, cut)), maxLineBytes: 16);

        await target.CopyFromAsync(new MemoryStream(Encoding.UTF8.GetBytes(new string('x', 100_000) + "\nnext\n")));

        Assert.Equal(2, lines.Count);
        Assert.Equal((new string('x', 16), true), lines[0]);
        Assert.Equal(("next", false), lines[1]);
    }

    [Fact]
    public async Task ControlCharacters_ThatCouldOverwriteOrForgeALogLine_AreEscaped_TextAndTabsKept()
    {
        var lines = new List<string>();
        var target = new BoundedLineTarget((line, _) => lines.Add(line));

        await target.CopyFromAsync(new MemoryStream(Encoding.UTF8.GetBytes("ok\tgrüße 日本\nreal\r[host] info: forged\b\b\u001b[2J\u202Eevil\u0085\n")));

        Assert.Equal(["ok\tgrüße 日本", "real\\x0D[host] info: forged\\x08\\x08\\x1B[2J\\u202Eevil\\x85"], lines);
    }
}
