using GrpcPlugins.Sdk.Server;

namespace GrpcPlugins.Sdk.Tests;

public sealed class GrpcStatusMessageTests
{
    [Fact]
    public void Encode_PrintableAscii_IsLeftAsItIs() =>
        Assert.Equal("hook 'request' failed: IOException: disk full", GrpcStatusMessage.Encode("hook 'request' failed: IOException: disk full"));

    [Fact]
    public void Encode_PercentNewlineAndNonAscii_ArePercentEncodedUtf8()
    {
        var encoded = GrpcStatusMessage.Encode("100% sure\nthé 🚀");

        Assert.Equal("100%25 sure%0Ath%C3%A9 %F0%9F%9A%80", encoded);
        Assert.Equal("100% sure\nthé 🚀", Uri.UnescapeDataString(encoded));
    }
}
