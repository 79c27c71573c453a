using GrpcPlugins.Supervisor.Handshake;

namespace GrpcPlugins.Supervisor.Tests;

public sealed class HandshakeLineTests
{
    private static readonly int[] s_versions = [1];

    [Fact]
    public void ValidLine_ParsesIntoItsFields()
    {
        var line = HandshakeLine.TryParse("1|1|unix|/run/p/plugin.sock|grpc", s_versions, out var error);

        Assert.Null(error);
        Assert.Equal(new HandshakeLine(1, 1, "unix", "/run/p/plugin.sock", "grpc"), line);
        Assert.Equal("1|1|unix|/run/p/plugin.sock|grpc", line!.ToString());
    }

    [Theory]
    [InlineData("Listening on port 5000", "expected 5 fields")]
    [InlineData("2|1|unix|/s|grpc", "core version '2'")]
    [InlineData("1|7|unix|/s|grpc", "app protocol version '7'")]
    [InlineData("1|1|tcp|127.0.0.1:1234|grpc", "network 'tcp'")]
    [InlineData("1|1|unix|relative.sock|grpc", "must be an absolute socket path")]
    [InlineData("1|1|unix|/s|netrpc", "protocol 'netrpc'")]
    public void InvalidLine_IsRefusedQuotingTheLine(string text, string expected)
    {
        var line = HandshakeLine.TryParse(text, s_versions, out var error);

        Assert.Null(line);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Contains('"' + text + '"', error, StringComparison.Ordinal);
    }

    [Fact]
    public void VeryLongLine_IsQuotedCut()
    {
        HandshakeLine.TryParse(new string('z', 10_000), s_versions, out var error);

        Assert.True(error!.Length < 500);
    }
}
