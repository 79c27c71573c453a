using GrpcPlugins.Host.Routes;

namespace GrpcPlugins.Host.Tests;

public sealed class PluginPathTests
{
    [Theory]
    [InlineData(null, "/")]
    [InlineData("ping", "/ping")]
    [InlineData("a//b/", "/a/b")]
    public void Path_IsNormalisedUnderThePluginPrefix(string? rest, string expected) =>
        Assert.Equal(expected, PluginPath.Normalise(rest, out _));

    [Theory]
    [InlineData("..%2Fadmin")]
    [InlineData("a%2fb")]
    [InlineData("a%5Cb")]
    [InlineData("a\\b")]
    [InlineData("../admin")]
    [InlineData("a/./b")]
    public void EscapeAttempts_AreRefused(string rest)
    {
        Assert.Null(PluginPath.Normalise(rest, out var error));
        Assert.NotNull(error);
    }
}
