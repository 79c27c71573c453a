using GrpcPlugins.Sdk.Server;

namespace GrpcPlugins.Sdk.Tests;

public sealed class GrpcTimeoutTests
{
    [Theory]
    [InlineData("2H", 2 * 3600 * 1000.0)]
    [InlineData("3M", 3 * 60 * 1000.0)]
    [InlineData("5S", 5000.0)]
    [InlineData("250m", 250.0)]
    [InlineData("1500u", 1.5)]
    [InlineData("2000000n", 2.0)]
    [InlineData("99999999m", 99999999.0)]
    public void Parse_EveryUnit_GivesTheTimeout(string header, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), GrpcTimeout.Parse(header));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("10")]
    [InlineData("10x")]
    [InlineData("-5S")]
    [InlineData("123456789S")]
    [InlineData(" 5S")]
    [InlineData("99999999H")]
    public void Parse_AMissingOrMalformedHeader_GivesNoTimeout(string? header) =>
        Assert.Null(GrpcTimeout.Parse(header));
}
