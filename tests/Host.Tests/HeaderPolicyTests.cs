using GrpcPlugins.Host.Routes;
using Microsoft.Extensions.Primitives;

namespace GrpcPlugins.Host.Tests;

public sealed class HeaderPolicyTests
{
    [Theory]
    [InlineData("")]
    [InlineData("keep-alive")]
    [InlineData("Keep-Alive, Upgrade")]
    [InlineData("close")]
    [InlineData(" , ,TE|close")]
    public void AConnectionHeaderNamingOnlyWhatEveryRequestLoses_NominatesNothing(string values) =>
        Assert.Null(HeaderPolicy.ConnectionOptions(new StringValues(values.Length == 0 ? [] : values.Split('|'))));

    [Fact]
    public void TheFieldsAConnectionHeaderNames_AreFoundInEveryValue_WhateverTheirCaseAndSpacing()
    {
        var nominated = HeaderPolicy.ConnectionOptions(new StringValues(["keep-alive, X-Hop-Secret ,x-other", "close,X-Third"]));

        Assert.NotNull(nominated);
        Assert.Equal(["X-Hop-Secret", "X-Third", "x-other"], nominated.Order(StringComparer.Ordinal));
        Assert.Contains("x-hop-secret", nominated);
    }
}
