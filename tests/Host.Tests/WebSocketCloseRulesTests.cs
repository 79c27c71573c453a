using System.Net.WebSockets;
using System.Text;
using GrpcPlugins.Host.Routes.WebSockets;

namespace GrpcPlugins.Host.Tests;

/// <summary>What of a plugin's close crosses to the client: statuses a client may be sent, reasons a close frame holds.</summary>
public sealed class WebSocketCloseRulesTests
{
    [Theory]
    [InlineData(1000, 1000)]
    [InlineData(1001, 1001)]
    [InlineData(1009, 1009)]
    [InlineData(1012, 1012)]
    [InlineData(3000, 3000)]
    [InlineData(4999, 4999)]
    [InlineData(0, 1011)] // none
    [InlineData(999, 1011)]
    [InlineData(1004, 1011)] // reserved
    [InlineData(1005, 1011)] // "no status", never sent
    [InlineData(1006, 1011)] // "abnormal", never sent
    [InlineData(1015, 1011)] // TLS failure, never sent
    [InlineData(2000, 1011)]
    [InlineData(5000, 1011)]
    [InlineData(-1, 1011)]
    public void APluginsCloseStatus_IsRelayedWhenAClientMayBeSentIt_Else1011(int fromPlugin, int toClient) =>
        Assert.Equal((WebSocketCloseStatus)toClient, CloseStatusRules.Relayable(fromPlugin));

    [Fact]
    public void AShortReason_IsKeptWhole() =>
        Assert.Equal("bye", CloseStatusRules.Fit("bye"));

    [Fact]
    public void ALongReason_IsCutToWhatACloseFrameHolds_NeverInsideACharacter()
    {
        // 200 characters of four UTF-8 bytes each (a surrogate pair apiece), and a huge one.
        var wide = string.Concat(Enumerable.Repeat("\U0001F600", 100));
        var huge = new string('x', 1_000_000);

        foreach (var reason in new[] { wide, huge, "é" + huge })
        {
            var fitted = CloseStatusRules.Fit(reason);
            Assert.True(Encoding.UTF8.GetByteCount(fitted) <= CloseStatusRules.MaxReasonBytes, $"{Encoding.UTF8.GetByteCount(fitted)} bytes");
            Assert.EndsWith("…", fitted, StringComparison.Ordinal);
            Assert.False(char.IsHighSurrogate(fitted[^2]), "cut inside a surrogate pair");
            Assert.StartsWith(fitted[..^1], reason, StringComparison.Ordinal);
        }
    }
}
